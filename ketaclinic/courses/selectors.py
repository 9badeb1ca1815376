"""Reads for protocols, courses and the schedule: access checked, rows preloaded, patient data
reads audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.courses.models import Chair, Course, PrescriberPresence, Protocol
from ketaclinic.courses.opening_hours import OpeningWindow, opening_hours_parse
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to


def protocols_active_for_user(user: Any) -> list[Protocol]:
    require(user, "protocol.view")
    return list(Protocol.objects.filter(active=True).order_by("name", "code"))


def protocol_get_for_user(user: Any, protocol_id: int) -> Protocol:
    require(user, "protocol.view")
    return Protocol.objects.select_related("created_by").get(pk=protocol_id)


def protocol_versions(code: str) -> list[Protocol]:
    return list(Protocol.objects.filter(code=code).select_related("created_by"))


def _parse_uuid(value: UUID | str) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _audit_courses(user: Any, courses: Iterable[Course]) -> None:
    targets = [AuditTarget("Course", str(c.pk), c.patient_id) for c in courses]
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)


def course_get_for_user(user: Any, course_id: UUID | str, *, audit: bool = True) -> Course:
    """The course, if the user may see its patient; else Course.DoesNotExist (a 404)."""
    pk = _parse_uuid(course_id)
    if pk is None:
        raise Course.DoesNotExist
    course = (
        Course.objects.select_related("patient", "protocol")
        .filter(patient__in=patients_visible_to(user))
        .get(pk=pk)
    )
    if audit:
        _audit_courses(user, [course])
    return course


def courses_list_for_patient(user: Any, patient: Patient) -> list[Course]:
    """A patient's courses with their sessions and dose orders; the caller has already fetched
    the patient through `patient_get_for_user`. Each course listed is an audited read."""
    courses = list(
        Course.objects.filter(patient=patient)
        .select_related("protocol", "started_by")
        .prefetch_related("sessions__chair", "dose_orders__ordered_by")
        .order_by("-started_at")
    )
    _audit_courses(user, courses)
    return courses


@dataclass(frozen=True)
class ChairRow:
    chair: Chair
    windows: tuple[OpeningWindow, ...]
    """The opening hours; none means bookable at any time."""


def chairs_for_user(user: Any) -> list[ChairRow]:
    """Every chair with its opening hours, for those who book sessions."""
    require(user, "session.book")
    return [
        ChairRow(chair, opening_hours_parse(chair.opening_hours))
        for chair in Chair.objects.order_by("name")
    ]


def prescriber_on_site(at: datetime) -> bool:
    """Whether a prescriber is marked on site at this moment (clinic-local date and time).

    The infusion chart refuses to start an infusion when this is False.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("prescriber_on_site: aware datetimes only")
    local = timezone.localtime(at)
    return PrescriberPresence.objects.filter(
        date=local.date(),
        from_time__lte=local.time(),
        to_time__gt=local.time(),
        clinician__is_active=True,
    ).exists()


def presence_on(day: date) -> list[PrescriberPresence]:
    return list(
        PrescriberPresence.objects.filter(date=day)
        .select_related("clinician")
        .order_by("from_time")
    )


@dataclass
class ChairDay:
    chair: Chair
    sessions: list[Session] = field(default_factory=list)


@dataclass
class ScheduleDay:
    day: date
    chairs: list[ChairDay]
    presence: list[PrescriberPresence]


def _local_midnight(day: date) -> datetime:
    zone = timezone.get_current_timezone()
    return timezone.make_aware(datetime.combine(day, datetime.min.time()), zone)


def _sessions_between(start: datetime, end: datetime) -> QuerySet[Session]:
    return (
        Session.objects.filter(start__gte=start, start__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("chair", "course__patient", "course__protocol")
        .order_by("start")
    )


def schedule_for_user(user: Any, first_day: date, days: int) -> list[ScheduleDay]:
    """The sessions of `days` clinic days from `first_day`, by chair, with who is on site.

    Staff only; every session listed is an audited read of its patient's data.
    """
    if not user_can_view_schedule(user):
        raise PermissionDenied("schedule.view")
    chairs = list(Chair.objects.order_by("name"))
    start = _local_midnight(first_day)
    end = _local_midnight(first_day + timedelta(days=days))
    sessions = list(_sessions_between(start, end))
    presence = list(
        PrescriberPresence.objects.filter(
            date__gte=first_day, date__lt=first_day + timedelta(days=days)
        )
        .select_related("clinician")
        .order_by("date", "from_time")
    )
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        by_chair = {chair.pk: ChairDay(chair) for chair in chairs}
        for session in sessions:
            if timezone.localdate(session.start) == day:
                by_chair[session.chair_id].sessions.append(session)
        result.append(
            ScheduleDay(
                day=day,
                chairs=list(by_chair.values()),
                presence=[p for p in presence if p.date == day],
            )
        )
    targets = [AuditTarget("Session", str(s.pk), s.course.patient_id) for s in sessions]
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)
    return result


def user_can_view_schedule(user: Any) -> bool:
    # The schedule names patients, so it is for those who may see any patient.
    return user_can(user, "patient.view_any")


def session_get_for_booking(user: Any, session_id: UUID | str, *, audit: bool = True) -> Session:
    """A booked session, for those who book (intake included, who may not open the chart):
    to cancel, move or mark it as not attended. Else PermissionDenied or DoesNotExist (404).
    An audited read of its patient's data."""
    require(user, "session.book")
    try:
        pk = session_id if isinstance(session_id, UUID) else UUID(str(session_id))
    except ValueError:
        raise Session.DoesNotExist from None
    session = Session.objects.select_related("chair", "course__patient", "course__protocol").get(
        pk=pk
    )
    if audit:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Session", str(session.pk), session.course.patient_id)],
        )
    return session
