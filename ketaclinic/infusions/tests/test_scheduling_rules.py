"""Session spacing, induction count and window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.infusions.protocols import (
    INTRANASAL_ESKETAMINE_56_MG,
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    Phase,
    shipped_protocol,
)
from ketaclinic.infusions.rules.scheduling import booking_spacing_problems

IV = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)
# Murrough's rhythm: Monday, Wednesday, Friday for two weeks.
SIX_INDUCTIONS = [MONDAY + n * DAY for n in (0, 2, 4, 7, 9, 11)]


def _codes(
    existing: list[datetime], proposed: datetime, phase: Phase = Phase.INDUCTION
) -> list[str]:
    return [p.code for p in booking_spacing_problems(existing, proposed, IV, phase)]


def test_first_session_always_fits() -> None:
    assert _codes([], MONDAY) == []


def test_48_hours_after_fits_and_47h59_does_not() -> None:
    assert _codes([MONDAY], MONDAY + 48 * H) == []
    assert _codes([MONDAY], MONDAY + 48 * H - timedelta(minutes=1)) == ["too_close_after"]


def test_the_reasons_name_times_in_the_clinic_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    (problem,) = booking_spacing_problems(
        [MONDAY], MONDAY + 47 * H, IV, Phase.INDUCTION, zone=berlin
    )
    # 09:00 UTC on 3 March 2025 is 10:00 in Berlin (CET); the default zone is UTC.
    assert "after the session of 2025-03-03 10:00 CET;" in problem.message
    (in_utc,) = booking_spacing_problems([MONDAY], MONDAY + 47 * H, IV, Phase.INDUCTION)
    assert "after the session of 2025-03-03 09:00 UTC;" in in_utc.message


def test_spacing_is_checked_before_existing_sessions_too() -> None:
    wednesday = MONDAY + 2 * DAY
    assert _codes([wednesday], wednesday - 48 * H) == []
    assert _codes([wednesday], wednesday - 47 * H - 59 * timedelta(minutes=1)) == [
        "too_close_before"
    ]


def test_squeezed_between_two_sessions_reports_both() -> None:
    problems = booking_spacing_problems(
        [MONDAY, MONDAY + 3 * DAY], MONDAY + 36 * H, IV, Phase.INDUCTION
    )
    assert [(p.code, p.conflicting_start) for p in problems] == [
        ("too_close_after", MONDAY),
        ("too_close_before", MONDAY + 3 * DAY),
    ]
    assert "36 h 00 min" in problems[0].message
    assert "Murrough" in problems[0].source


def test_the_sixth_induction_session_fits() -> None:
    assert _codes(SIX_INDUCTIONS[:5], SIX_INDUCTIONS[5]) == []


def test_the_seventh_induction_session_is_refused() -> None:
    problems = booking_spacing_problems(
        SIX_INDUCTIONS, SIX_INDUCTIONS[-1] + 3 * DAY, IV, Phase.INDUCTION
    )
    assert [p.code for p in problems] == ["too_many_sessions"]
    assert "session 7" in problems[0].message
    assert "Murrough 2013" in problems[0].source


def test_induction_window_of_21_days() -> None:
    existing = SIX_INDUCTIONS[:3]
    assert _codes(existing, MONDAY + 21 * DAY) == []
    assert _codes(existing, MONDAY + 21 * DAY + timedelta(minutes=1)) == ["outside_window"]


def test_window_counts_a_session_booked_before_the_first() -> None:
    existing = [MONDAY + 20 * DAY]
    assert _codes(existing, MONDAY - DAY) == []  # spans exactly 21 days
    assert _codes(existing, MONDAY - DAY - H) == ["outside_window"]


def test_maintenance_has_no_count_limit_but_its_own_spacing() -> None:
    weekly = [MONDAY + 7 * n * DAY for n in range(20)]
    assert _codes(weekly, weekly[-1] + 7 * DAY, Phase.MAINTENANCE) == []
    assert _codes(weekly, weekly[-1] + 143 * H, Phase.MAINTENANCE) == ["too_close_after"]
    assert _codes(weekly, weekly[-1] + 144 * H, Phase.MAINTENANCE) == []


def test_other_sessions_count_for_spacing_only() -> None:
    last_induction = SIX_INDUCTIONS[-1]
    problems = booking_spacing_problems(
        [],
        last_induction + 2 * DAY,
        IV,
        Phase.MAINTENANCE,
        other_session_starts=SIX_INDUCTIONS,
    )
    # 144 h apart in maintenance: the sessions 4 and 2 days earlier both conflict.
    assert [(p.code, p.conflicting_start) for p in problems] == [
        ("too_close_after", SIX_INDUCTIONS[4]),
        ("too_close_after", last_induction),
    ]
    six_later = booking_spacing_problems(
        [], last_induction + 6 * DAY, IV, Phase.MAINTENANCE, other_session_starts=SIX_INDUCTIONS
    )
    assert six_later == []


def test_spacing_counts_elapsed_hours_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    saturday = datetime(2025, 3, 29, 9, 0, tzinfo=berlin)
    monday = datetime(2025, 3, 31, 9, 0, tzinfo=berlin)  # 48 h on the wall clock, 47 h elapsed
    assert _codes([saturday], monday) == ["too_close_after"]
    assert _codes([saturday], monday + H) == []


def test_esketamine_induction_allows_eight_sessions() -> None:
    esketamine = shipped_protocol(INTRANASAL_ESKETAMINE_56_MG)
    twice_weekly = [MONDAY + n * DAY for n in (0, 3, 7, 10, 14, 17, 21, 24)]
    assert (
        booking_spacing_problems(twice_weekly[:7], twice_weekly[7], esketamine, Phase.INDUCTION)
        == []
    )
    assert [
        p.code
        for p in booking_spacing_problems(
            twice_weekly, twice_weekly[-1] + 3 * DAY, esketamine, Phase.INDUCTION
        )
    ] == ["too_many_sessions"]


def test_naive_datetimes_are_refused() -> None:
    naive = MONDAY.replace(tzinfo=None)  # the naive datetime is what is being refused
    with pytest.raises(ValueError, match="proposed_start: aware datetimes only"):
        booking_spacing_problems([MONDAY], naive, IV, Phase.INDUCTION)
    with pytest.raises(ValueError, match="existing_session_starts: aware"):
        booking_spacing_problems([naive], MONDAY + 7 * DAY, IV, Phase.INDUCTION)
