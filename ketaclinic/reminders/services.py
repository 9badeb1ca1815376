"""Sending reminders, at most once per event and channel, and the patient's preferences.

How a reminder goes (``reminders_run``, the worker's periodic job):
1. the due events are found (``due.py``); for each of the patient's channels with an address,
   the send time is checked against the quiet hours (``rules/timing.py``);
2. a ``Delivery`` row is CLAIMED in its own committed transaction: its unique (event key,
   channel) constraint lets exactly one worker win, whatever the number of workers;
3. only then is the message handed to the channel, and the outcome written (SENT, RETRY with
   back-off, FAILED, UNCONFIRMED), audited without the body.
A worker that dies between 2 and 3 leaves the row CLAIMED: it is never sent again by a worker
(at-most-once: a patient never gets two), and after REMINDERS_UNCONFIRMED_AFTER_SECONDS it is
listed for staff (``selectors.deliveries_needing_attention``), who can check with the patient.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.patients.models import Patient
from ketaclinic.reminders.bodies import reminder_render
from ketaclinic.reminders.channels import NotAccepted, Unconfirmed, backend_for
from ketaclinic.reminders.due import REMINDER_LEAD, DueEvent, due_events
from ketaclinic.reminders.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    ReminderPreference,
)
from ketaclinic.reminders.rules.timing import QuietHours, retry_after, send_decision
from ketaclinic.reminders.selectors import needing_a_look


def preference_for(patient: Patient) -> ReminderPreference:
    """The patient's preference, or the defaults (unsaved) when they never chose."""
    try:
        return ReminderPreference.objects.get(patient=patient)
    except ReminderPreference.DoesNotExist:
        return ReminderPreference(patient=patient)


@transaction.atomic
def preference_set(
    *,
    acting_user: Any,
    patient: Patient,
    email: bool,
    sms: bool,
    quiet_start: time | None,
    quiet_end: time | None,
) -> ReminderPreference:
    """The patient (or staff for them) sets channels and quiet hours; audited."""
    if getattr(acting_user, "patient_id", None) != patient.pk:
        require(acting_user, "patient.change")
    preference = preference_for(patient)
    created = preference.pk is None
    preference.email, preference.sms = email, sms
    preference.quiet_start, preference.quiet_end = quiet_start, quiet_end
    preference.updated_at = timezone.now()
    preference.updated_by = acting_user
    preference.full_clean(exclude=["patient", "updated_by"])
    preference.save()
    audit_record(
        actor=acting_user,
        action=Action.CREATE if created else Action.UPDATE,
        object_type="ReminderPreference",
        object_id=preference.pk,
        patient_id=patient.pk,
    )
    return preference


def _cutoff(event_at: datetime | None) -> datetime | None:
    return None if event_at is None else event_at - REMINDER_LEAD


def _worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _address(patient: Patient, channel: str) -> str:
    return patient.email if channel == Channel.EMAIL else patient.phone


def _quiet(preference: ReminderPreference) -> QuietHours:
    return QuietHours(preference.quiet_start, preference.quiet_end)


@dataclass
class RunSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0
    waiting: int = 0
    skipped: int = 0

    def count(self, status: str) -> None:
        if status == DeliveryStatus.SENT:
            self.sent += 1
        elif status == DeliveryStatus.RETRY:
            self.retrying += 1
        elif status == DeliveryStatus.FAILED:
            self.failed += 1
        else:
            self.unconfirmed += 1


def _claim(event: DueEvent, channel: str, now: datetime) -> Delivery | None:
    """Insert the delivery row in its own committed transaction; None if another worker (or
    an earlier run) already has it."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                event_key=event.event_key,
                channel=channel,
                kind=event.kind,
                patient=event.patient,
                event_at=event.event_at,
                claimed_at=now,
                claimed_by=_worker_name(),
            )
            audit_record(
                actor=None,
                action=Action.CREATE,
                object_type="ReminderDelivery",
                object_id=delivery.pk,
                patient_id=event.patient.pk,
            )
    except IntegrityError:
        return None
    return delivery


def _deliver(delivery: Delivery, patient: Patient, now: datetime) -> str:
    """Hand the claimed delivery to its channel and record the outcome (audited)."""
    message = reminder_render(
        kind=delivery.kind, channel=delivery.channel, patient=patient, event_at=delivery.event_at
    )
    fields: dict[str, Any] = {}
    try:
        ref = backend_for(delivery.channel).send(message)
    except NotAccepted as refused:
        last = delivery.attempts >= settings.REMINDERS_MAX_ATTEMPTS
        if refused.permanent or last:
            fields = {"status": DeliveryStatus.FAILED, "error": refused.reason[:200]}
        else:
            wait = retry_after(delivery.attempts, settings.REMINDERS_RETRY_BASE_SECONDS)
            fields = {
                "status": DeliveryStatus.RETRY,
                "error": refused.reason[:200],
                "next_attempt_at": now + wait,
            }
    except Unconfirmed as unknown:
        fields = {"status": DeliveryStatus.UNCONFIRMED, "error": unknown.reason[:200]}
    else:
        fields = {
            "status": DeliveryStatus.SENT,
            "sent_at": timezone.now(),
            "provider_ref": ref,
            "error": "",
        }
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.CLAIMED).update(**fields)
        audit_record(
            actor=None,
            action=Action.EXECUTE,
            object_type="ReminderDelivery",
            object_id=delivery.pk,
            patient_id=patient.pk,
        )
    return str(fields["status"])


def _retry_due(now: datetime, summary: RunSummary) -> None:
    """Deliveries the provider refused for now, whose back-off has passed: each re-claimed by
    a conditional update (one worker wins) and tried again, outside quiet hours."""
    rows = Delivery.objects.filter(
        status=DeliveryStatus.RETRY, next_attempt_at__lte=now
    ).select_related("patient")
    for delivery in rows:
        preference = preference_for(delivery.patient)
        before = delivery.kind == Kind.SESSION_TOMORROW
        decision = send_decision(
            due=now,
            now=timezone.localtime(now),
            quiet=_quiet(preference),
            event_at=_cutoff(delivery.event_at) if before else None,
        )
        if decision == "skip":
            Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.RETRY).update(
                status=DeliveryStatus.FAILED, error="the appointment came before a retry"
            )
            summary.failed += 1
            continue
        if decision != "send":
            summary.waiting += 1
            continue
        won = Delivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.RETRY, attempts=delivery.attempts
        ).update(
            status=DeliveryStatus.CLAIMED,
            attempts=delivery.attempts + 1,
            claimed_at=now,
            claimed_by=_worker_name(),
        )
        if won:
            delivery.attempts += 1
            summary.count(_deliver(delivery, delivery.patient, now))


def reminders_run(*, now: datetime | None = None) -> RunSummary:
    """Find the due reminders and send each at most once per event and channel. Safe to run
    in several workers at once."""
    moment = now or timezone.now()
    summary = RunSummary()
    events = due_events(moment)
    taken = set(
        Delivery.objects.filter(event_key__in=[e.event_key for e in events]).values_list(
            "event_key", "channel"
        )
    )
    preferences = {
        p.patient_id: p
        for p in ReminderPreference.objects.filter(patient__in={e.patient.pk for e in events})
    }
    enabled = set(settings.REMINDERS_CHANNELS)
    for event in events:
        preference = preferences.get(event.patient.pk) or ReminderPreference(patient=event.patient)
        decision = send_decision(
            due=event.due_at,
            now=timezone.localtime(moment),
            quiet=_quiet(preference),
            event_at=_cutoff(event.event_at) if event.before_event else None,
        )
        for channel in preference.channels:
            if channel not in enabled or (event.event_key, channel) in taken:
                continue
            if not _address(event.patient, channel):
                summary.skipped += 1
                continue
            if decision != "send":
                summary.waiting += decision == "wait"
                summary.skipped += decision == "skip"
                continue
            delivery = _claim(event, channel, moment)
            if delivery is None:
                continue
            summary.count(_deliver(delivery, event.patient, moment))
    _retry_due(moment, summary)
    return summary


class NotOnTheList(Exception):
    """The delivery is not one that needs a look (sent, waiting to retry, handled, or claimed
    too recently for its worker to be presumed gone): nothing was changed."""


def _staff_decide(user: Any, delivery_id: UUID, fields: dict[str, Any], now: datetime) -> None:
    require(user, "patient.change")
    with transaction.atomic():
        # One conditional update: two people acting at once (or a worker finishing late)
        # cannot both win, and a row no longer on the list is left as it is.
        rows = Delivery.objects.filter(needing_a_look(now), pk=delivery_id)
        patient_id = rows.values_list("patient_id", flat=True).first()
        if patient_id is None or not rows.update(**fields):
            raise NotOnTheList
        audit_record(
            actor=user,
            action=Action.UPDATE,
            object_type="ReminderDelivery",
            object_id=delivery_id,
            patient_id=patient_id,
        )


def delivery_send_again(user: Any, delivery_id: UUID, *, now: datetime | None = None) -> None:
    """A member of staff, having checked (e.g. the address was corrected, or the patient says
    nothing came), asks for one more try: the worker's next run sends it, outside the
    patient's quiet hours and not after the appointment. A person's decision, recorded with
    their name; NotOnTheList if it is not failed, unconfirmed or stale."""
    moment = now or timezone.now()
    _staff_decide(
        user,
        delivery_id,
        {
            "status": DeliveryStatus.RETRY,
            "next_attempt_at": moment,
            "resend_by": user,
            "resend_at": moment,
        },
        moment,
    )


def delivery_mark_handled(
    user: Any, delivery_id: UUID, note: str, *, now: datetime | None = None
) -> None:
    """A member of staff took it off the list (phoned the patient, booked again...), with a
    short note; never sent after this. NotOnTheList if it is not failed, unconfirmed or stale."""
    moment = now or timezone.now()
    _staff_decide(
        user,
        delivery_id,
        {
            "status": DeliveryStatus.HANDLED,
            "handled_by": user,
            "handled_at": moment,
            "handled_note": note.strip()[:200],
        },
        moment,
    )
