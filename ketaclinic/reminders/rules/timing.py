"""When a reminder may go: outside the patient's quiet hours, before its event where
possible; and how long to wait before trying a provider again. Pure: aware datetimes in the
clinic's zone in, datetimes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class QuietHours:
    """A daily window in clinic time when nothing is sent, e.g. 21:00-08:00 (it may wrap past
    midnight). Equal start and end, or none, mean no quiet hours."""

    start: time | None
    end: time | None

    @property
    def empty(self) -> bool:
        return self.start is None or self.end is None or self.start == self.end

    def contains(self, moment: time) -> bool:
        if self.empty:
            return False
        assert self.start is not None and self.end is not None
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def earliest_send(due: datetime, quiet: QuietHours) -> datetime:
    """The first moment at or after `due` (clinic time) outside the quiet hours."""
    local = due.timetz().replace(tzinfo=None)
    if not quiet.contains(local):
        return due
    assert quiet.end is not None
    end_today = datetime.combine(due.date(), quiet.end, tzinfo=due.tzinfo)
    return end_today if end_today > due else end_today + timedelta(days=1)


def send_decision(
    *, due: datetime, now: datetime, quiet: QuietHours, event_at: datetime | None
) -> str:
    """ "send" now, "wait" (quiet hours, or not due yet), or "skip" (the quiet hours end only
    after the event: a reminder after the appointment would be no use)."""
    if now < due:
        return "wait"
    moment = earliest_send(now, quiet)
    if event_at is not None and moment >= event_at:
        return "skip"
    return "send" if moment <= now else "wait"


def retry_after(attempt: int, base_seconds: int) -> timedelta:
    """The wait after the `attempt`-th failed try (1, 2, 3, ...): base, 2 x base, 4 x base..."""
    return timedelta(seconds=base_seconds * 2 ** max(attempt - 1, 0))
