"""Propose the dates of a series of sessions (an induction course) from its first start.

Pure, no Django; aware datetimes only. Each next session is the earliest day, at the same
clinic-local clock time as the first, that is at least the protocol's minimum gap after the
previous one and that the caller says is available (chair open, prescriber on site, chair
free). Days skipped are returned with the reason, so the person booking sees why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class SkippedDay:
    start: datetime
    """The candidate start that was not available (clinic-local)."""
    reason: str


@dataclass(frozen=True)
class SeriesProposal:
    starts: tuple[datetime, ...]
    """The proposed starts, clinic-local, in order."""
    skipped: tuple[SkippedDay, ...]
    problems: tuple[str, ...]
    """Why fewer sessions than asked were proposed (empty when all fit)."""


def _aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name}: aware datetimes only, got {moment.isoformat()}")


def series_propose(
    *,
    first_start: datetime,
    count: int,
    min_hours_between: int,
    window_days: int | None,
    available: Callable[[datetime], str | None],
    zone: tzinfo,
    search_days: int = 60,
) -> SeriesProposal:
    """Up to `count` starts from `first_start` (or the first available day after it).

    `available(start)` answers None when a session may start then, else the reason it may not.
    The gap is measured in elapsed hours (UTC), so a clock change does not shorten it; exactly
    the minimum gap is allowed (as `booking_spacing_problems` allows it). With `window_days`,
    every start must lie within that many days of the first proposed one. The search gives up
    `search_days` after the first start.
    """
    _aware("first_start", first_start)
    if count < 1:
        raise ValueError("count: at least one session")
    if min_hours_between < 0:
        raise ValueError("min_hours_between: not negative")
    local_first = first_start.astimezone(zone)
    clock = local_first.timetz().replace(tzinfo=None)
    last_day = local_first.date() + timedelta(days=search_days)
    gap = timedelta(hours=min_hours_between)
    window = timedelta(days=window_days) if window_days is not None else None

    starts: list[datetime] = []
    skipped: list[SkippedDay] = []
    problems: list[str] = []
    earliest = local_first
    while len(starts) < count:
        day = earliest.astimezone(zone).date()
        found: datetime | None = None
        while day <= last_day:
            candidate = datetime.combine(day, clock, tzinfo=zone)
            day += timedelta(days=1)
            if candidate.astimezone(UTC) < earliest.astimezone(UTC):
                continue
            elapsed = candidate.astimezone(UTC) - (starts[0] if starts else candidate).astimezone(
                UTC
            )
            beyond = window is not None and elapsed > window
            if beyond:
                break
            reason = available(candidate)
            if reason is None:
                found = candidate
                break
            skipped.append(SkippedDay(candidate, reason))
        if found is None:
            within = (
                f"within {window_days} days of the first session"
                if starts and window_days is not None
                else f"within {search_days} days"
            )
            problems.append(
                f"only {len(starts)} of {count} sessions could be placed {within}; "
                "book the rest by hand or choose another first day or chair"
            )
            break
        starts.append(found)
        # Elapsed hours: wall-clock arithmetic on an aware local time ignores a clock change.
        earliest = found.astimezone(UTC) + gap
    return SeriesProposal(tuple(starts), tuple(skipped), tuple(problems))
