"""Whether a proposed session start fits the protocol's spacing, count and window rules.

Pure functions, no Django; aware datetimes only. The caller passes the starts of the patient's
booked (not cancelled) sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from ketaclinic.infusions.protocols import Phase, Protocol


@dataclass(frozen=True)
class SpacingProblem:
    code: str
    """too_close_before, too_close_after, too_many_sessions or outside_window."""
    message: str
    conflicting_start: datetime | None
    """The existing session it conflicts with, when there is one."""
    source: str


def _require_aware(name: str, moments: Iterable[datetime]) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name}: aware datetimes only, got {moment.isoformat()}")


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _shown(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def booking_spacing_problems(
    existing_session_starts: Sequence[datetime],
    proposed_start: datetime,
    protocol: Protocol,
    phase: Phase,
    *,
    other_session_starts: Sequence[datetime] = (),
    zone: tzinfo = UTC,
) -> list[SpacingProblem]:
    """Every rule of `phase` that booking `proposed_start` would break; empty when it fits.

    `existing_session_starts` are the booked sessions of this phase of the course: they count
    towards the phase's session limit and window, and the proposed start must be at least the
    phase's minimum hours from each (before and after). `other_session_starts` (sessions of
    another phase or course) are checked for spacing only. Exactly the minimum gap is allowed.
    The messages show times in `zone` (the clinic's), with the zone named.
    """
    _require_aware("existing_session_starts", existing_session_starts)
    _require_aware("other_session_starts", other_session_starts)
    _require_aware("proposed_start", [proposed_start])
    # Same-tzinfo subtraction in Python ignores DST shifts; compare in UTC so that 48 h are
    # 48 elapsed hours, also across a clock change.
    proposed_start = proposed_start.astimezone(UTC)
    existing_session_starts = [start.astimezone(UTC) for start in existing_session_starts]
    other_session_starts = [start.astimezone(UTC) for start in other_session_starts]
    rule = protocol.schedule[phase]
    problems: list[SpacingProblem] = []

    min_gap = timedelta(hours=rule.min_hours_between.value)
    for start in sorted({*existing_session_starts, *other_session_starts}):
        gap = abs(proposed_start - start)
        if gap >= min_gap:
            continue
        if start <= proposed_start:
            code, where = "too_close_after", "after the session of"
        else:
            code, where = "too_close_before", "before the session of"
        problems.append(
            SpacingProblem(
                code=code,
                message=(
                    f"{_hours(gap)} {where} {_shown(start, zone)}; the {phase.value} phase "
                    f"needs at least {rule.min_hours_between.value} h between sessions"
                ),
                conflicting_start=start,
                source=rule.min_hours_between.source,
            )
        )

    if rule.max_sessions is not None and len(existing_session_starts) >= rule.max_sessions.value:
        problems.append(
            SpacingProblem(
                code="too_many_sessions",
                message=(
                    f"this would be {phase.value} session {len(existing_session_starts) + 1}; "
                    f"the protocol allows {rule.max_sessions.value}"
                ),
                conflicting_start=None,
                source=rule.max_sessions.source,
            )
        )

    if rule.window_days is not None and existing_session_starts:
        all_starts = [*existing_session_starts, proposed_start]
        first, last = min(all_starts), max(all_starts)
        window = timedelta(days=rule.window_days.value)
        if last - first > window:
            problems.append(
                SpacingProblem(
                    code="outside_window",
                    message=(
                        f"the {phase.value} sessions would span {_hours(last - first)} from "
                        f"{_shown(first, zone)}; the protocol allows {rule.window_days.value} days"
                    ),
                    conflicting_start=first if proposed_start == last else last,
                    source=rule.window_days.source,
                )
            )
    return problems
