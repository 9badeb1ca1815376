"""The events a reminder is due for, found from the clinic's own records at a moment `now`.

- session tomorrow: a booked session ("scheduled") on the next day in the clinic's zone; due
  from the start of the day before it, and no later than REMINDER_LEAD before its start.
- questionnaire due: a self-report questionnaire due or overdue by the scales app's due rules
  (the same the portal lists), for a patient with a portal account; one reminder per due date
  of each schedule.
- missed session: a session the staff marked as not attended (a "no-show" change, which
  closes the session as cancelled: `courses.bookings.session_no_show`), due when it was
  marked; or a session still "scheduled" (never checked in, never cancelled, never marked)
  REMINDERS_MISSED_AFTER_MINUTES after its start. One follow-up per session whichever signal
  comes first (the same event key); only within REMINDERS_MISSED_WITHIN_DAYS of the session
  (the first run of the worker does not write to everyone the clinic ever missed). A plain
  cancellation is never followed up as missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.courses.models import SessionChange, SessionChangeKind
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.patients.models import Patient
from ketaclinic.reminders.models import Kind
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import InstrumentUnknown
from ketaclinic.scales.models import ScaleSchedule
from ketaclinic.scales.schedules import due_for_patient

# A reminder of a session is no use once it is this close (the patient must get ready).
REMINDER_LEAD = timedelta(hours=1)


@dataclass(frozen=True)
class DueEvent:
    kind: str
    event_key: str
    patient: Patient
    due_at: datetime
    # The appointment (session tomorrow: nothing is sent after it) or the missed one.
    event_at: datetime | None
    # Whether the reminder is useless once event_at has passed.
    before_event: bool


def _day_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return timezone.make_aware(datetime.combine(local.date(), time.min))


def sessions_tomorrow(now: datetime) -> list[DueEvent]:
    """Booked sessions starting before the end of tomorrow (clinic time) and not yet begun:
    each is due from the start of the day before it, so a reminder held by quiet hours past
    midnight still goes on the morning of the session (before it, where possible)."""
    today = _day_start(now)
    after = timezone.make_aware(datetime.combine(today.date() + timedelta(days=2), time.min))
    rows = Session.objects.filter(
        status=SessionStatus.SCHEDULED, start__gt=now, start__lt=after
    ).select_related("course__patient")
    return [
        DueEvent(
            Kind.SESSION_TOMORROW,
            f"session:{s.pk}",
            s.course.patient,
            _day_start(s.start) - timedelta(days=1),
            s.start,
            before_event=True,
        )
        for s in rows
    ]


def missed_sessions(now: datetime) -> list[DueEvent]:
    after = timedelta(minutes=settings.REMINDERS_MISSED_AFTER_MINUTES)
    within = timedelta(days=settings.REMINDERS_MISSED_WITHIN_DAYS)
    rows = Session.objects.filter(
        status=SessionStatus.SCHEDULED, start__lte=now - after, start__gte=now - within
    ).select_related("course__patient")
    marked = SessionChange.objects.filter(
        kind=SessionChangeKind.NO_SHOW, changed_at__lte=now, session__start__gte=now - within
    ).select_related("session__course__patient")
    events = [
        DueEvent(
            Kind.MISSED_SESSION,
            f"missed:{s.pk}",
            s.course.patient,
            s.start + after,
            s.start,
            before_event=False,
        )
        for s in rows
    ]
    events += [
        DueEvent(
            Kind.MISSED_SESSION,
            f"missed:{c.session_id}",
            c.session.course.patient,
            c.changed_at,
            c.session.start,
            before_event=False,
        )
        for c in marked
    ]
    return events


def _self_report(code: str) -> bool:
    try:
        return "self" in instruments.get(code).respondents
    except InstrumentUnknown:
        return False


def questionnaires_due(now: datetime) -> list[DueEvent]:
    """Patients with an active schedule and a portal account; the scales app's due rules."""
    with_account = User.objects.filter(patient__isnull=False, is_active=True).values("patient_id")
    patient_ids = set(
        ScaleSchedule.objects.filter(active=True, patient_id__in=with_account).values_list(
            "patient_id", flat=True
        )
    )
    day = timezone.localdate(now)
    events = []
    for patient in Patient.objects.filter(pk__in=patient_ids).order_by("pk"):
        for row in due_for_patient(patient, today=day):
            if not _self_report(row.schedule.instrument):
                continue
            events.append(
                DueEvent(
                    Kind.QUESTIONNAIRE_DUE,
                    f"questionnaire:{row.schedule.pk}:{row.item.due_on.isoformat()}",
                    patient,
                    _day_start(now),
                    None,
                    before_event=False,
                )
            )
    return events


def due_events(now: datetime) -> list[DueEvent]:
    return sessions_tomorrow(now) + questionnaires_due(now) + missed_sessions(now)
