"""A chair's opening hours: parsing and whether a booking fits. Pure, no Django.

Opening hours are a list of {"weekday": 0-6 (Monday is 0), "opens": "HH:MM", "closes":
"HH:MM"} in the clinic's local time. An empty list means open at any time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class OpeningWindow:
    weekday: int
    opens: time
    closes: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.opens:%H:%M}-{self.closes:%H:%M}"


def _hh_mm(value: object, path: str) -> time:
    if not isinstance(value, str) or not _HH_MM.match(value):
        raise ValueError(f"{path}: expected a time written HH:MM")
    return time.fromisoformat(value)


def opening_hours_parse(data: object) -> tuple[OpeningWindow, ...]:
    """Validate stored or submitted opening hours; ValueError names the path of the problem."""
    if not isinstance(data, list):
        raise ValueError("opening_hours: expected a list")
    windows = []
    for i, item in enumerate(data):
        path = f"opening_hours.{i}"
        if not isinstance(item, dict):
            raise ValueError(f"{path}: expected an object")
        unknown = set(item) - {"weekday", "opens", "closes"}
        if unknown:
            raise ValueError(f"{path}: unknown key {', '.join(sorted(unknown))}")
        weekday = item.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"{path}.weekday: expected a whole number 0 (Monday) to 6 (Sunday)")
        opens = _hh_mm(item.get("opens"), f"{path}.opens")
        closes = _hh_mm(item.get("closes"), f"{path}.closes")
        if opens >= closes:
            raise ValueError(f"{path}.closes: must be after opens")
        windows.append(OpeningWindow(weekday, opens, closes))
    return tuple(windows)


def opening_hours_problem(
    windows: tuple[OpeningWindow, ...], start_local: datetime, end_local: datetime
) -> str | None:
    """Why [start, end) does not fit in one opening window, or None when it does.

    Both times are the clinic's local time. No windows means open at any time.
    """
    if not windows:
        return None
    day = start_local.weekday()
    if end_local.date() == start_local.date():
        for window in windows:
            if (
                window.weekday == day
                and window.opens <= start_local.time()
                and end_local.time() <= window.closes
            ):
                return None
    that_day = [str(w) for w in windows if w.weekday == day]
    hours = ", ".join(that_day) if that_day else f"closed on {WEEKDAYS[day]}s"
    return (
        f"the chair is not open from {start_local:%Y-%m-%d %H:%M} to {end_local:%H:%M} "
        f"(opening hours: {hours})"
    )
