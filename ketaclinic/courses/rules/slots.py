"""A chair's free slots on one day. Pure, no Django; aware datetimes only.

The caller gives the chair's open intervals that day (its opening hours, or the whole working
day for a chair without hours), the intervals its sessions hold it, how long a session holds
the chair, and the step between proposed starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"aware datetimes only, got {moment.isoformat()}")
        if self.end <= self.start:
            raise ValueError("an interval ends after it starts")

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def free_slots(
    *,
    open_intervals: Sequence[Interval],
    busy: Sequence[Interval],
    duration: timedelta,
    step: timedelta,
    not_before: datetime | None = None,
) -> list[datetime]:
    """Every start, on the step from each open interval's start, at which a session of
    `duration` fits wholly inside that open interval without touching a busy one (a session
    may start exactly when another frees the chair). Starts before `not_before` (now) are left
    out. Sorted, without duplicates."""
    if duration <= timedelta(0) or step <= timedelta(0):
        raise ValueError("duration and step must be positive")
    found: set[datetime] = set()
    for window in open_intervals:
        start = window.start
        while start + duration <= window.end:
            end = start + duration
            if (not_before is None or start >= not_before) and not any(
                b.overlaps(start, end) for b in busy
            ):
                found.add(start)
            start += step
    return sorted(found)


def free_ranges(*, open_intervals: Sequence[Interval], busy: Sequence[Interval]) -> list[Interval]:
    """The open time not held by a session, as intervals (for a day view's gaps)."""
    ranges: list[Interval] = []
    for window in sorted(open_intervals, key=lambda w: w.start):
        cursor = window.start
        for held in sorted(busy, key=lambda b: b.start):
            if held.end <= cursor or held.start >= window.end:
                continue
            if held.start > cursor:
                ranges.append(Interval(cursor, held.start))
            cursor = max(cursor, held.end)
        if cursor < window.end:
            ranges.append(Interval(cursor, window.end))
    return ranges
