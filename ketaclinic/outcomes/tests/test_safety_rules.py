"""The safety rules against hand-computed cases (no database): dose bands at their edges, the
peak BP rise over the baseline, infused minutes less pauses, early stops at the margin, quartiles
from counts equal to ``percentile_cont`` of the values, and the table by dose band."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ketaclinic.outcomes.rules.safety import (
    NO_DOSE,
    NOT_WEIGHT_BASED,
    SessionSafety,
    Spread,
    by_dose_band,
    dose_band,
    infused_minutes,
    peak_rise,
    per_100,
    percentile_of_counts,
    shipped_safety,
    stopped_early,
)
from ketaclinic.outcomes.rules.stats import percentile_cont

SAFETY = shipped_safety()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.mark.parametrize(
    ("mg_per_kg", "band"),
    [
        ("0.25", "below_0_5"),  # Glue's first step
        ("0.4999", "below_0_5"),
        ("0.5", "0_5"),  # the standard dose opens its band
        ("0.74", "0_5"),
        ("0.75", "0_75"),
        ("0.9999", "0_75"),
        ("1.0", "1_0"),
        ("1.5", "1_0"),
        (None, NO_DOSE),  # a weight-based session without a dose charted
    ],
)
def test_dose_band_edges(mg_per_kg: str | None, band: str) -> None:
    dose = None if mg_per_kg is None else Decimal(mg_per_kg)
    assert dose_band(dose, SAFETY.dose_bands) == band


def test_a_fixed_dose_is_not_banded_by_weight() -> None:
    # esketamine 56 mg: its amount is mg, not mg/kg
    assert dose_band(Decimal("56"), SAFETY.dose_bands, weight_based=False) == NOT_WEIGHT_BASED


def test_every_band_and_threshold_says_where_it_comes_from() -> None:
    assert "Taylor 2018" in SAFETY.dose_bands_source
    assert "[U]" in SAFETY.early_stop_source
    assert SAFETY.label == "ketaclinic-safety v1"


@pytest.mark.parametrize(
    ("baseline", "during", "rise"),
    [
        (128, [135, 152, 149], 24),  # peak 152 - 128
        (128, [120, 126], -2),  # never rose: the peak is still below the baseline
        (128, [128], 0),  # a tie is no rise
        (128, [None, 140, None], 12),  # a monitor row without a cuff value is skipped
        (None, [150], None),  # no pre-infusion baseline
        (128, [], None),  # nothing measured during
        (128, [None], None),
    ],
)
def test_peak_rise_over_the_baseline(
    baseline: int | None, during: list[int | None], rise: int | None
) -> None:
    assert peak_rise(baseline, during) == rise


def test_infused_minutes_less_pauses() -> None:
    assert infused_minutes(minute(0), minute(40)) == 40
    # paused 10-15 and 20-23: 40 - 5 - 3
    assert (
        infused_minutes(minute(0), minute(40), [(minute(10), minute(15)), (minute(20), minute(23))])
        == 32
    )
    # a pause never resumed lasts until the stop
    assert infused_minutes(minute(0), minute(30), [(minute(25), None)]) == 25


@pytest.mark.parametrize(
    ("planned", "stop_minute", "pauses", "early"),
    [
        (40, 40, [], False),  # completed
        (40, 39, [], False),  # within the 1-minute margin
        (40, 38.9, [], True),  # just past it
        (40, 25, [], True),  # stopped for BP at 25 minutes
        (40, 45, [(minute(10), minute(15))], False),  # 40 infused after a 5-minute pause
        (40, 42, [(minute(10), minute(15))], True),  # 37 infused
        (None, 10, [], None),  # a nasal dose has no planned minutes
    ],
)
def test_stopped_early_at_the_margin(
    planned: int | None,
    stop_minute: float,
    pauses: list[tuple[datetime, datetime | None]],
    early: bool | None,
) -> None:
    result = stopped_early(
        planned_minutes=planned,
        start=minute(0),
        stop=minute(stop_minute),
        pauses=pauses,
        margin_minutes=SAFETY.early_stop_margin_minutes,
    )
    assert result is early


def test_no_stop_charted_is_not_told() -> None:
    assert stopped_early(planned_minutes=40, start=minute(0), stop=None, margin_minutes=1) is None


@pytest.mark.parametrize(
    "values",
    [[5], [1, 2], [3, 1, 2], [10, 10, 10, 4], [0, 7, 7, 8, 20, 21, -3], [2, 2, 2, 2, 9]],
)
@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_percentile_of_counts_is_percentile_cont_of_the_values(
    values: list[int], fraction: float
) -> None:
    assert percentile_of_counts(Counter(values), fraction) == pytest.approx(
        percentile_cont(sorted(values), fraction)
    )


def test_percentile_of_no_values() -> None:
    assert percentile_of_counts({}, 0.5) is None


def test_by_dose_band_table_computed_by_hand() -> None:
    sessions = [
        # 0.5 mg/kg band: rises 10, 20, 30, 40 (one session without a baseline)
        SessionSafety(Decimal("0.5"), 10, 5, {"cadss": 8}),
        SessionSafety(Decimal("0.5"), 20, 10, {"cadss": 12, "dissociation_0_4": 2}),
        SessionSafety(Decimal("0.6"), 30, 15, {}),
        SessionSafety(Decimal("0.7"), 40, 20, {"cadss": 20}),
        SessionSafety(Decimal("0.55"), None, None, {}),
        # 1.0 mg/kg band: one session
        SessionSafety(Decimal("1.0"), 25, 12, {"cadss": 30}),
        # fixed dose
        SessionSafety(None, -2, 0, {"dissociation_0_4": 1}, weight_based=False),
        # no dose charted yet
        SessionSafety(None, None, None, {}),
    ]
    rows = by_dose_band(sessions, SAFETY, ["cadss", "dissociation_0_4"])
    assert [(r.band, r.sessions) for r in rows] == [
        ("0_5", 5),
        ("1_0", 1),
        (NOT_WEIGHT_BASED, 1),
        (NO_DOSE, 1),
    ]
    mid = rows[0]
    # rises 10, 20, 30, 40: q1 = 10 + 0.75 * 10 = 17.5, median 25, q3 = 32.5, max 40
    assert mid.systolic_rise == Spread(4, 17.5, 25.0, 32.5, 40)
    assert mid.diastolic_rise == Spread(4, 8.75, 12.5, 16.25, 20)
    # CADSS 8, 12, 20 among 3 of the 5 sessions: median 12, q1 10, q3 16
    assert mid.dissociation["cadss"] == Spread(3, 10.0, 12.0, 16.0, 20)
    assert mid.dissociation["dissociation_0_4"] == Spread(1, 2.0, 2.0, 2.0, 2)
    assert rows[1].dissociation["dissociation_0_4"] == Spread(0, None, None, None, None)
    assert rows[2].label == "fixed dose (not by weight)"
    assert rows[2].systolic_rise == Spread(1, -2.0, -2.0, -2.0, -2)


def test_per_100() -> None:
    assert per_100(3, 40) == 7.5
    assert per_100(1, 3) == 33.3
    assert per_100(0, 0) is None
