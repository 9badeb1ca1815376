"""Real infusion sessions for the scales tests: booked, then driven through the session
chart's API to a started infusion (``chart_driver``), then moved to the moment a test needs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ketaclinic.courses.models import Chair, Course
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import Clinic


def infusion_started(clinic: Clinic, at: datetime, *, course: Course | None = None) -> Session:
    """A session of Pat's whose infusion started at ``at``: in a new course, or in ``course``.

    Started through the chart API now (check-in, pre-checks, vitals, dose and its second check,
    start), then its booked start and its infusion-start entry are moved to ``at``.
    """
    if course is None:
        chart = chart_for(clinic)
        # A TOTP code is accepted once per step: Dr Ada calculates, Nurse Ben checks.
        chart.infusing(calculator="ada", witness="ben")
    else:
        start = timezone.now() + timedelta(minutes=30)
        session = Session.objects.create(
            course=course,
            chair=Chair.objects.get_or_create(name=f"Chair {Session.objects.count() + 1}")[0],
            phase="induction",
            start=start,
            chair_until=start + timedelta(hours=2),
            created_by=clinic.users["ben"],
        )
        chart = Chart(clinic=clinic, session=session, ben=clinic.api("ben"), ada=clinic.api("ada"))
        chart.infusing(calculator="ada", witness="ben")
    session = chart.session
    ChartEntry.objects.filter(session=session, kind=ChartEntryKind.INFUSION_START).update(at=at)
    Session.objects.filter(pk=session.pk).update(start=at, chair_until=at + timedelta(hours=2))
    session.refresh_from_db()
    return session
