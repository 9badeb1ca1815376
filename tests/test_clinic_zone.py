"""The suite's clinic zone puts the clinic at midday whatever the hour of the run."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from ketaclinic.testing.clinic_zone import midday_zone


@pytest.mark.parametrize("hour", range(24))
def test_every_hour_of_the_day_maps_to_a_zone_where_it_is_midday(hour: int) -> None:
    utc_now = datetime(2026, 12, 2, hour, 37, tzinfo=UTC)
    local = utc_now.astimezone(ZoneInfo(midday_zone(utc_now)))
    assert (local.hour, local.minute) == (12, 37)


def test_the_names_carry_posix_signs() -> None:
    assert midday_zone(datetime(2026, 1, 1, 0, 5, tzinfo=UTC)) == "Etc/GMT-12"
    assert midday_zone(datetime(2026, 1, 1, 12, 5, tzinfo=UTC)) == "Etc/GMT"
    assert midday_zone(datetime(2026, 1, 1, 23, 5, tzinfo=UTC)) == "Etc/GMT+11"


def test_this_run_is_in_the_middle_of_the_clinic_day() -> None:
    chosen = os.environ.get("KETACLINIC_TEST_CHOSEN_ZONE")
    if chosen is None or chosen != settings.TIME_ZONE:
        pytest.skip("the developer set KETACLINIC_TIME_ZONE for this run")
    local = timezone.localtime()
    # The zone was chosen when the run started; a long run moves on from 12:xx.
    assert timedelta(hours=12) <= timedelta(hours=local.hour, minutes=local.minute)
    assert settings.TIME_ZONE.startswith("Etc/GMT")
