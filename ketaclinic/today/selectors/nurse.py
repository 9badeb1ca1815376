"""The infusion nurse's day: the chairs, then what waits on a nurse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ketaclinic.accounts.access import require
from ketaclinic.today.selectors.sessions import Day, day_sessions

NurseDay = Day


def nurse_day_for_user(user: Any, *, now: datetime | None = None) -> NurseDay:
    require(user, "session.view")
    # The nurse's page shows the chairs, not who is on site (the clinician's does).
    return day_sessions(user, now=now, presence=False)
