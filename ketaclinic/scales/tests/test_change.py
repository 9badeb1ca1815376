"""Change from baseline: baseline choice, percent change, response, remission, MCID."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument
from ketaclinic.scales.scoring import (
    RuleNotDefined,
    baseline_select,
    course_first_infusion,
    is_meaningful_improvement,
    is_partial_response,
    is_remission,
    is_response,
    percent_change,
)

FIRST_INFUSION = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Administration:
    name: str
    administered_at: datetime


def _at(name: str, delta: timedelta) -> Administration:
    return Administration(name, FIRST_INFUSION + delta)


def test_baseline_is_the_last_administration_strictly_before_the_first_infusion() -> None:
    administrations = [
        _at("screening", -timedelta(days=14)),
        _at("after", timedelta(hours=2)),
        _at("pre-dose", -timedelta(minutes=30)),
        _at("intake", -timedelta(days=7)),
    ]
    chosen = baseline_select(administrations, FIRST_INFUSION)
    assert chosen is not None and chosen.name == "pre-dose"


def test_an_administration_at_the_infusion_moment_is_not_baseline() -> None:
    administrations = [_at("same moment", timedelta(0)), _at("day before", -timedelta(days=1))]
    chosen = baseline_select(administrations, FIRST_INFUSION)
    assert chosen is not None and chosen.name == "day before"


def test_baseline_compares_moments_across_time_zones() -> None:
    plus_two = timezone(timedelta(hours=2))
    # 10:30 at +02:00 is 08:30 UTC, before the 09:00 UTC infusion.
    early = Administration("early", datetime(2026, 3, 10, 10, 30, tzinfo=plus_two))
    chosen = baseline_select([early], FIRST_INFUSION)
    assert chosen is early


def test_of_two_administrations_at_the_same_moment_the_later_listed_wins() -> None:
    first, second = _at("first", -timedelta(hours=1)), _at("second", -timedelta(hours=1))
    assert baseline_select([first, second], FIRST_INFUSION) is second


@pytest.mark.parametrize(
    ("administrations", "first_infusion_at"),
    [
        ([], FIRST_INFUSION),
        ([_at("after", timedelta(days=1))], FIRST_INFUSION),
        ([_at("before", -timedelta(days=1))], None),
    ],
    ids=["no administrations", "none before the infusion", "no infusion yet"],
)
def test_no_baseline(
    administrations: list[Administration], first_infusion_at: datetime | None
) -> None:
    assert baseline_select(administrations, first_infusion_at) is None


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 10, 9, 0)  # noqa: DTZ001 - the naive value under test
    with pytest.raises(ValueError, match="aware"):
        baseline_select([], naive)
    with pytest.raises(ValueError, match="aware"):
        baseline_select([Administration("naive", naive)], FIRST_INFUSION)


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        (20, 10, Decimal(50)),
        (20, 13, Decimal(35)),
        (10, 10, Decimal(0)),
        (10, 0, Decimal(100)),
        (10, 15, Decimal(-50)),
        (3, 2, Decimal(100) / Decimal(3)),
        (0, 0, None),
        (0, 5, None),
        (None, 5, None),
    ],
)
def test_percent_change(baseline: int | None, current: int, expected: Decimal | None) -> None:
    result = percent_change(baseline, current)
    assert result == expected
    if result is not None:
        assert isinstance(result, Decimal)


@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_percent_change_refuses_a_total_that_is_not_a_count(bad: object) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        percent_change(10, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative integer"):
        percent_change(bad, 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "baseline", "current", "expected"),
    [
        # >= 50% (convention)
        ("gad7", 20, 10, True),
        ("gad7", 20, 11, False),
        ("gad7", 15, 7, True),  # 53.3%
        ("gad7", 15, 8, False),  # 46.7%
        ("phq9", 18, 9, True),
        ("phq9", 18, 10, False),
        ("hama", 30, 15, True),
        ("hama", 30, 16, False),
        # PDSS-SR >= 40% (Furukawa 2009)
        ("pdss_sr", 20, 12, True),
        ("pdss_sr", 20, 13, False),
        # Y-BOCS >= 35% (Mataix-Cols 2016)
        ("ybocs", 20, 13, True),
        ("ybocs", 20, 14, False),
        # LSAS strictly > 35% (Taylor 2018)
        ("lsas", 100, 65, False),
        ("lsas", 100, 64, True),
        ("lsas", 20, 13, False),
        # worse than baseline
        ("gad7", 10, 12, False),
        # no baseline, or a baseline of 0
        ("gad7", None, 3, None),
        ("gad7", 0, 0, None),
    ],
)
def test_is_response(code: str, baseline: int | None, current: int, expected: bool | None) -> None:
    assert is_response(instruments.get(code), baseline, current) is expected


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        (20, 15, True),  # 25%
        (20, 16, False),  # 20%
        (20, 14, True),  # 30%
        (20, 13, False),  # 35%: full response, not partial
        (None, 10, None),
        (0, 0, None),
    ],
)
def test_ybocs_partial_response_is_25_to_35_percent(
    baseline: int | None, current: int, expected: bool | None
) -> None:
    assert is_partial_response(instruments.get("ybocs"), baseline, current) is expected


@pytest.mark.parametrize(
    ("code", "current", "expected"),
    [
        ("gad7", 4, True),
        ("gad7", 5, False),
        ("phq9", 4, True),
        ("phq9", 5, False),
        ("hama", 7, True),
        ("hama", 8, False),
        ("pdss_sr", 5, True),
        ("pdss_sr", 6, False),
        ("ybocs", 12, True),
        ("ybocs", 13, False),
        ("gad7", 0, True),
    ],
)
def test_is_remission(code: str, current: int, expected: bool) -> None:
    assert is_remission(instruments.get(code), current) is expected


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [(12, 8, True), (12, 9, False), (12, 2, True), (8, 12, False), (None, 3, None), (0, 0, False)],
)
def test_gad7_meaningful_improvement_is_a_drop_of_4_points(
    baseline: int | None, current: int, expected: bool | None
) -> None:
    assert is_meaningful_improvement(instruments.get("gad7"), baseline, current) is expected


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda i: is_response(i, 10, 5), "spin"),
        (lambda i: is_response(i, 10, 5), "ocir"),
        (lambda i: is_remission(i, 3), "lsas"),
        (lambda i: is_partial_response(i, 10, 7), "gad7"),
        (lambda i: is_meaningful_improvement(i, 10, 5), "phq9"),
    ],
)
def test_rules_an_instrument_does_not_define_are_refused(
    call: Callable[[Instrument], object], code: str
) -> None:
    with pytest.raises(RuleNotDefined):
        call(instruments.get(code))


COURSE_A, COURSE_B = "A", "B"


@pytest.mark.parametrize(
    ("infusions", "expected"),
    [
        ([], None),
        ([(COURSE_A, FIRST_INFUSION)], FIRST_INFUSION),
        (
            [(COURSE_A, FIRST_INFUSION + timedelta(days=7)), (COURSE_A, FIRST_INFUSION)],
            FIRST_INFUSION,
        ),
        (
            [
                (COURSE_A, FIRST_INFUSION),
                (COURSE_A, FIRST_INFUSION + timedelta(days=3)),
                (COURSE_B, FIRST_INFUSION + timedelta(days=90)),
                (COURSE_B, FIRST_INFUSION + timedelta(days=93)),
            ],
            FIRST_INFUSION + timedelta(days=90),
        ),
    ],
)
def test_the_first_infusion_is_that_of_the_current_course(
    infusions: list[tuple[str, datetime]], expected: datetime | None
) -> None:
    assert course_first_infusion(infusions) == expected


def test_course_first_infusion_refuses_naive_moments() -> None:
    with pytest.raises(ValueError, match="aware"):
        course_first_infusion([(COURSE_A, datetime(2026, 3, 10, 9, 0))])  # noqa: DTZ001
