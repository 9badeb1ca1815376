"""Fixtures for courses: the shipped protocols, a cleared intake, courses, chairs, dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.courses import services
from ketaclinic.courses.models import Chair, Course, PrescriberPresence, Protocol
from ketaclinic.eligibility import clearance
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic
from ketaclinic.testing.shipped import shipped_data_ensure


def shipped_rows_ensure() -> None:
    """The data migrations' protocols; a transactional test's flush removes them for later
    tests."""
    shipped_data_ensure(apps_only=("courses",))


@pytest.fixture
def iv_protocol(clinic: Clinic) -> Protocol:
    shipped_rows_ensure()
    return Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)


@pytest.fixture
def cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake has cleared every patient (the real check arrives with the intake issue)."""
    monkeypatch.setattr(
        clearance,
        "treatment_clearance",
        lambda patient: clearance.Clearance(cleared=True, reasons=()),
    )


def course_for(clinic: Clinic, patient: Patient, protocol: Protocol) -> Course:
    return services.course_start(
        acting_user=clinic.users["ada"], patient=patient, protocol_id=protocol.pk
    )


def presence_mark(clinic: Clinic, first: date, days: int) -> None:
    """Dr Ada on site all day on each of `days` days from `first` (bookings need a prescriber
    on site; the chart needs one to start an infusion)."""
    PrescriberPresence.objects.bulk_create(
        PrescriberPresence(
            clinician=clinic.users["ada"],
            date=first + timedelta(days=offset),
            from_time=time(0, 0),
            to_time=time(23, 59),
            recorded_by=clinic.users["dana"],
        )
        for offset in range(days)
    )


@pytest.fixture
def on_site(clinic: Clinic) -> None:
    """A prescriber on site from yesterday (a start an hour ago may be yesterday's, near
    midnight) through the next 13 weeks."""
    presence_mark(clinic, timezone.localdate() - timedelta(days=1), 92)


@pytest.fixture
def course(clinic: Clinic, iv_protocol: Protocol, cleared: None, on_site: None) -> Course:
    return course_for(clinic, clinic.pat, iv_protocol)


@pytest.fixture
def chair(clinic: Clinic) -> Chair:
    return services.chair_create(acting_user=clinic.users["dana"], name="Chair 1", room="Room A")


def monday_ahead() -> date:
    """A Monday at least a week from today (clinic-local), so bookings are never in the past."""
    today = timezone.localdate()
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    naive = datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute)
    return timezone.make_aware(naive, timezone.get_current_timezone())


def book(clinic: Clinic, course: Course, start: datetime, chair: str = "Chair 1") -> Any:
    """POST a booking as Nurse Ben; returns the response."""
    return clinic.api("ben").post(
        f"/api/v1/courses/{course.pk}/sessions",
        {"start": start.isoformat(), "chair": chair},
        content_type="application/json",
    )
