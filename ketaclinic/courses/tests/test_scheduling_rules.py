"""The pure scheduling rules of courses: proposing an induction series and a chair's free
slots. Table-driven, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.courses.rules.series import series_propose
from ketaclinic.courses.rules.slots import Interval, free_ranges, free_slots

ZONE = ZoneInfo("America/New_York")
MONDAY = date(2027, 3, 1)  # a Monday


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def weekdays_only(start: datetime) -> str | None:
    return "the chair is closed" if start.weekday() >= 5 else None


def test_a_series_of_six_every_48_hours_on_weekdays_is_monday_wednesday_friday() -> None:
    proposal = series_propose(
        first_start=at(MONDAY, 9),
        count=6,
        min_hours_between=48,
        window_days=21,
        available=weekdays_only,
        zone=ZONE,
    )
    days = [(s.date() - MONDAY).days for s in proposal.starts]
    assert days == [0, 2, 4, 7, 9, 11]
    assert all(s.hour == 9 and s.minute == 0 for s in proposal.starts)
    assert proposal.problems == ()
    # Sunday (day 6) is skipped with its reason; Saturday is before the 48 h anyway.
    assert [((s.start.date() - MONDAY).days, s.reason) for s in proposal.skipped] == [
        (6, "the chair is closed")
    ]


def test_a_day_without_a_prescriber_moves_that_session_to_the_next_available_day() -> None:
    wednesday = MONDAY + timedelta(days=2)

    def available(start: datetime) -> str | None:
        if start.date() == wednesday:
            return "no prescriber on site"
        return weekdays_only(start)

    proposal = series_propose(
        first_start=at(MONDAY, 9),
        count=3,
        min_hours_between=48,
        window_days=21,
        available=available,
        zone=ZONE,
    )
    assert [(s.date() - MONDAY).days for s in proposal.starts] == [0, 3, 7]
    assert proposal.skipped[0].reason == "no prescriber on site"


def test_an_unavailable_first_day_starts_the_series_on_the_next_available_day() -> None:
    saturday = MONDAY - timedelta(days=2)
    proposal = series_propose(
        first_start=at(saturday, 10),
        count=1,
        min_hours_between=48,
        window_days=None,
        available=weekdays_only,
        zone=ZONE,
    )
    assert proposal.starts == (at(MONDAY, 10),)


def test_the_window_limits_the_series_and_says_so() -> None:
    proposal = series_propose(
        first_start=at(MONDAY, 9),
        count=6,
        min_hours_between=72,
        window_days=7,
        available=lambda start: None,
        zone=ZONE,
    )
    assert [(s.date() - MONDAY).days for s in proposal.starts] == [0, 3, 6]
    assert proposal.problems and "3 of 6" in proposal.problems[0]
    assert "within 7 days" in proposal.problems[0]


def test_the_gap_is_elapsed_hours_across_a_clock_change() -> None:
    # 2027-03-14 is the US spring-forward Sunday: Saturday 09:00 to Monday 09:00 is 47 h.
    saturday = date(2027, 3, 13)
    proposal = series_propose(
        first_start=at(saturday, 9),
        count=2,
        min_hours_between=48,
        window_days=None,
        available=lambda start: None,
        zone=ZONE,
    )
    second = proposal.starts[1]
    assert second.date() == date(2027, 3, 16)
    assert second.astimezone(UTC) - proposal.starts[0].astimezone(UTC) >= timedelta(hours=48)


@pytest.mark.parametrize("count", [0, -1])
def test_a_series_needs_at_least_one_session(count: int) -> None:
    with pytest.raises(ValueError, match="count"):
        series_propose(
            first_start=at(MONDAY, 9),
            count=count,
            min_hours_between=48,
            window_days=None,
            available=lambda start: None,
            zone=ZONE,
        )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        series_propose(
            first_start=datetime(2027, 3, 1, 9),  # noqa: DTZ001  the refusal is the point
            count=1,
            min_hours_between=48,
            window_days=None,
            available=lambda start: None,
            zone=ZONE,
        )


OPEN = [Interval(at(MONDAY, 8), at(MONDAY, 17))]
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("busy", "expected_hours"),
    [
        (
            [],
            [8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0],
        ),
        # A session holding the chair 10:00-12:00: starts from 8:00 to 8:00 (8:30 would end in
        # it at 10:30) and again from 12:00 (a start exactly when the chair frees is allowed).
        (
            [Interval(at(MONDAY, 10), at(MONDAY, 12))],
            [8.0, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0],
        ),
        ([Interval(at(MONDAY, 8), at(MONDAY, 17))], []),
    ],
)
def test_free_slots_fit_the_opening_hours_and_avoid_held_times(
    busy: list[Interval], expected_hours: list[float]
) -> None:
    slots = free_slots(
        open_intervals=OPEN, busy=busy, duration=2 * HOUR, step=HOUR / 2, not_before=None
    )
    assert [s.hour + s.minute / 60 for s in slots] == expected_hours


def test_free_slots_leave_out_the_past_and_split_opening_windows() -> None:
    split = [
        Interval(at(MONDAY, 8), at(MONDAY, 12)),
        Interval(at(MONDAY, 13), at(MONDAY, 15)),
    ]
    slots = free_slots(
        open_intervals=split, busy=[], duration=2 * HOUR, step=HOUR, not_before=at(MONDAY, 9)
    )
    assert [s.hour for s in slots] == [9, 10, 13]


def test_free_ranges_are_the_gaps_between_sessions() -> None:
    busy = [
        Interval(at(MONDAY, 9), at(MONDAY, 10)),
        Interval(at(MONDAY, 9, 30), at(MONDAY, 11)),
        Interval(at(MONDAY, 16), at(MONDAY, 18)),
    ]
    ranges = free_ranges(open_intervals=OPEN, busy=busy)
    assert [(r.start.hour, r.end.hour) for r in ranges] == [(8, 9), (11, 16)]


def test_an_interval_must_be_aware_and_forward() -> None:
    with pytest.raises(ValueError, match="after"):
        Interval(at(MONDAY, 9), at(MONDAY, 9))
    with pytest.raises(ValueError, match="aware"):
        Interval(datetime(2027, 3, 1, 9), at(MONDAY, 10))  # noqa: DTZ001  the refusal is the point


def test_a_protocols_values_become_rows_and_are_written_back_exactly() -> None:
    from decimal import Decimal

    from ketaclinic.courses.rules.valued import (
        protocol_dump,
        protocol_parse,
        typed_like,
        valued_rows,
        valued_set,
    )

    data = protocol_parse(
        '{"dosing": {"amount": {"value": 0.5, "source": "Murrough 2013"}},'
        ' "alerts": [{"code": "sbp_high", "value": 180, "source": "Sanacora 2017"}],'
        ' "discharge": {"escort_required": {"value": true, "source": "protocol.md"}}}'
    )
    rows = valued_rows(data)
    assert [(r.path, r.label, r.value, r.source) for r in rows] == [
        ("dosing.amount", "dosing · amount", Decimal("0.5"), "Murrough 2013"),
        ("alerts.0", "alerts: sbp high", 180, "Sanacora 2017"),
        ("discharge.escort_required", "discharge · escort required", True, "protocol.md"),
    ]
    assert typed_like(180, "170") == 170
    assert typed_like(Decimal("0.5"), "0.55") == Decimal("0.55")
    assert typed_like(True, "false") is False
    with pytest.raises(ValueError, match="number"):
        typed_like(180, "high")
    changed = valued_set(data, {"dosing.amount": Decimal("0.55"), "alerts.0": 170})
    text = protocol_dump(changed)
    assert '"value": 0.55' in text and '"value": 170' in text
    assert protocol_parse(text)["dosing"]["amount"]["value"] == Decimal("0.55")
    assert data["alerts"][0]["value"] == 180  # the original is unchanged
