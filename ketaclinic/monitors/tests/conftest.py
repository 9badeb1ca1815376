"""Monitors, chairs and sessions for the feed's tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from ketaclinic.courses.models import Chair
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.monitors.feed import samples
from ketaclinic.monitors.models import MonitorDevice
from ketaclinic.testing import Clinic


def session_in(clinic: Clinic, *, chair: str = "Chair 1", status: str = "infusing") -> Session:
    """A session in the chair, checked in 20 minutes ago, with its status set directly (the
    chart's steps are tested in infusions)."""
    session = session_make(clinic, chair=chair, start=timezone.now() - timedelta(minutes=15))
    Session.objects.filter(pk=session.pk).update(status=status)
    ChartEntry.objects.create(
        session=session,
        kind=ChartEntryKind.CHECK_IN,
        at=timezone.now() - timedelta(minutes=20),
        recorded_by=clinic.users["ben"],
    )
    session.refresh_from_db()
    return session


def device_on(chair: str = "Chair 1", device_id: str = samples.GE_DEVICE) -> MonitorDevice:
    return MonitorDevice.objects.create(
        name=f"Monitor {chair}",
        device_id=device_id,
        chair=Chair.objects.get_or_create(name=chair)[0],
    )


def message(
    sample: str = "ge",
    *,
    control: str = "M1",
    now: datetime | None = None,
    cuff_minutes_ago: int = 3,
    spo2: int = 97,
    hr: int = 72,
    sys: int = 118,
    dia: int = 76,
    rr: int = 14,
) -> bytes:
    moment = (now or timezone.now()).replace(microsecond=0)
    return samples.render(
        samples.SAMPLES[sample],
        now=moment,
        nibp=moment - timedelta(minutes=cuff_minutes_ago),
        control=control,
        spo2=spo2,
        hr=hr,
        sys=sys,
        dia=dia,
        rr=rr,
    ).encode("utf-8")


@pytest.fixture
def infusing(clinic: Clinic) -> Session:
    return session_in(clinic)
