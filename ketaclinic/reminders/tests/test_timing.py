"""Quiet hours and back-off: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from ketaclinic.reminders.rules.timing import QuietHours, earliest_send, retry_after, send_decision

NIGHT = QuietHours(time(21, 0), time(8, 0))
LUNCH = QuietHours(time(12, 0), time(13, 0))


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("quiet", "moment", "inside"),
    [
        (NIGHT, time(20, 59), False),
        (NIGHT, time(21, 0), True),
        (NIGHT, time(23, 30), True),
        (NIGHT, time(0, 0), True),
        (NIGHT, time(7, 59), True),
        (NIGHT, time(8, 0), False),
        (LUNCH, time(12, 30), True),
        (LUNCH, time(13, 0), False),
        (QuietHours(None, None), time(3, 0), False),
        (QuietHours(time(9, 0), time(9, 0)), time(9, 0), False),
    ],
)
def test_quiet_hours_wrap_past_midnight(quiet: QuietHours, moment: time, inside: bool) -> None:
    assert quiet.contains(moment) is inside


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (at(10), at(10)),  # outside: at once
        (at(22), at(8, day=4)),  # evening: next morning
        (at(3), at(8)),  # small hours: this morning
    ],
)
def test_a_reminder_due_in_quiet_hours_waits_until_they_end(
    due: datetime, expected: datetime
) -> None:
    assert earliest_send(due, NIGHT) == expected


def test_send_wait_or_skip() -> None:
    session = at(10, day=4)
    assert send_decision(due=at(0), now=at(9), quiet=NIGHT, event_at=session) == "send"
    assert send_decision(due=at(0), now=at(22), quiet=NIGHT, event_at=session) == "wait"
    # The quiet hours end after the appointment: no reminder after the event.
    early = at(7, 30, day=4)
    assert send_decision(due=at(0), now=at(22), quiet=NIGHT, event_at=early) == "skip"
    assert send_decision(due=at(12), now=at(9), quiet=NIGHT, event_at=None) == "wait"
    assert send_decision(due=at(0), now=at(23), quiet=NIGHT, event_at=None) == "wait"


def test_back_off_doubles() -> None:
    assert [retry_after(n, 60) for n in (1, 2, 3)] == [
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
    ]
