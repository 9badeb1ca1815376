"""The clinic's zone for a test run: one that puts the clinic in the middle of its day.

The demo clinic and the pages that show "today" (the Today pages, the chair board) are built
around the moment they run: an infusion started 25 minutes ago, one signed five and a half
hours ago, two bookings later today. Run at 23:30 UTC in a clinic on UTC, half of "today"
falls on another date, and a suite that passed at noon fails at night. So unless the developer
sets ``KETACLINIC_TIME_ZONE`` themselves, the suite runs in a fixed-offset zone (``Etc/GMT±N``,
no daylight saving) where the clinic's clock reads between 12:00 and 13:00 when the run
starts. It also means every run exercises a zone other than UTC: times stored in UTC and shown
in the clinic's zone are checked at a real offset, which a UTC-only suite never does."""

from __future__ import annotations

from datetime import datetime

MIDDAY_HOUR = 12


def midday_zone(utc_now: datetime) -> str:
    """The ``Etc/GMT±N`` zone whose local hour is 12 at `utc_now` (an aware UTC datetime).

    IANA's ``Etc`` names have POSIX signs: ``Etc/GMT-12`` is UTC+12. Offsets run from UTC-11
    (``Etc/GMT+11``, at 23:xx UTC) to UTC+12 (``Etc/GMT-12``, at 00:xx UTC)."""
    offset = MIDDAY_HOUR - utc_now.hour
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{-offset:+d}"
