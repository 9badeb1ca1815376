"""Reads of reminder deliveries for staff (audited), and the patient's own preference."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_reads, audit_record_many
from ketaclinic.patients.models import Patient
from ketaclinic.reminders.models import Delivery, DeliveryStatus

HISTORY_LIMIT = 100


def deliveries_for_patient(user: Any, patient_id: UUID) -> tuple[Patient, list[Delivery]]:
    """A patient's reminder history (newest first) for staff; Patient.DoesNotExist for an
    unknown id. Audited read."""
    require(user, "patient.view_any")
    patient = Patient.objects.get(pk=patient_id)
    rows = list(
        Delivery.objects.filter(patient=patient).select_related("resend_by", "handled_by")[
            :HISTORY_LIMIT
        ]
    )
    targets = [AuditTarget("Patient", str(patient.pk), patient.pk)]
    targets += [AuditTarget("ReminderDelivery", str(r.pk), patient.pk) for r in rows]
    audit_record_many(actor=user, action=Action.READ, targets=targets)
    return patient, rows


def needing_a_look(moment: datetime) -> Q:
    """Failed, unconfirmed, or claimed so long ago that its worker is presumed gone."""
    stale = moment - timedelta(seconds=settings.REMINDERS_UNCONFIRMED_AFTER_SECONDS)
    return Q(status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED]) | Q(
        status=DeliveryStatus.CLAIMED, claimed_at__lt=stale
    )


def deliveries_needing_attention(user: Any, *, now: datetime | None = None) -> list[Delivery]:
    """Deliveries staff should look at: failed, unconfirmed (the provider may or may not have
    taken it), and claimed long ago without an outcome (the worker died between claim and
    send: not resent, so the patient may have had nothing). Audited read."""
    require(user, "patient.view_any")
    rows = list(
        Delivery.objects.filter(needing_a_look(now or timezone.now()))
        .select_related("patient", "resend_by", "handled_by")
        .order_by("-claimed_at")[:HISTORY_LIMIT]
    )
    audit_reads(user, "ReminderDelivery", rows)
    return rows
