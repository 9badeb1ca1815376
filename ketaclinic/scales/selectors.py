"""Reads of administrations and safety flags: the patient's record access-checked first
(``patient_get_for_user``: not found for a record the user may not see), every read audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

from django.db.models import F, Model

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.scales import instruments
from ketaclinic.scales.models import Administration, IncompleteResponse, Notification

FlagStatusFilter = Literal["active", "acknowledged", "all"]


def _audit_reads(user: Any, patient: Patient, object_type: str, rows: Sequence[Model]) -> None:
    # An empty list still tells the reader something (no flags, no scores): record the read
    # of the record itself then.
    targets = [AuditTarget(object_type, str(row.pk), patient.pk) for row in rows] or [
        AuditTarget("Patient", str(patient.pk), patient.pk)
    ]
    audit_record_many(actor=user, action=Action.READ, targets=targets)


def safety_flags_list_for_user(
    user: Any, patient_id: UUID | str, *, status: FlagStatusFilter = "active"
) -> list[SafetyFlag]:
    """The patient's safety flags, newest first; acknowledged ones are kept and listed too."""
    patient = patient_get_for_user(user, patient_id, audit=False)
    rows = SafetyFlag.objects.filter(patient=patient)
    if status != "all":
        rows = rows.filter(status=FlagStatus(status))
    flags = list(rows.order_by("-opened_at", "-pk"))
    _audit_reads(user, patient, "SafetyFlag", flags)
    return flags


def safety_flag_get_for_user(user: Any, patient_id: UUID | str, flag_id: int) -> SafetyFlag:
    """One flag of a patient the user may see, for a write (not audited as a read)."""
    patient = patient_get_for_user(user, patient_id, audit=False)
    return SafetyFlag.objects.get(patient=patient, pk=flag_id)


def administrations_list_for_user(
    user: Any, patient_id: UUID | str, *, instrument: str | None = None
) -> list[Administration]:
    """The patient's administrations, oldest first (the order of a chart over time)."""
    patient = patient_get_for_user(user, patient_id, audit=False)
    rows = Administration.objects.filter(patient=patient)
    if instrument is not None:
        rows = rows.filter(instrument=instrument)
    administrations = list(rows.order_by("administered_at", "created_at"))
    _audit_reads(user, patient, "Administration", administrations)
    return administrations


NOTIFICATION_LIMIT = 100


def notifications_for_user(user: Any, *, limit: int = NOTIFICATION_LIMIT) -> list[Notification]:
    """The user's own in-app notifications, unread first, then newest first. Their text names
    no patient (the link leads to the record, whose reading is checked and audited)."""
    return list(
        Notification.objects.filter(user=user).order_by(
            F("read_at").asc(nulls_first=True), "-created_at", "-pk"
        )[:limit]
    )


# Flags raised by answers: their source row names the instrument (a self-screen sent with an
# inquiry is always the person's own answers to a self-report questionnaire).
_ANSWER_SOURCES: dict[str, type[Administration] | type[IncompleteResponse]] = {
    "Administration": Administration,
    "IncompleteResponse": IncompleteResponse,
}
_SELF_SCREEN_SOURCE = "Inquiry"


def patient_self_report_support_needed(patient: Patient) -> bool:
    """Whether an open flag on the patient's record was raised by the patient's own answer to
    a self-report questionnaire (a flag rule of an instrument the patient answers, such as
    PHQ-9 item 9), so that the patient's own page shows supportive text and crisis numbers.
    A patient never sees the staff flag itself; flags from clinician- or nurse-rated scales
    and flags opened by hand call for nothing on the patient's page. Part of the record's
    audited read (the caller read the record)."""
    flags = list(
        SafetyFlag.objects.filter(
            patient=patient,
            status=FlagStatus.ACTIVE,
            source_object_type__in=[*_ANSWER_SOURCES, _SELF_SCREEN_SOURCE],
        ).only("code", "source_object_type", "source_object_id")
    )
    for flag in flags:
        if flag.source_object_type == _SELF_SCREEN_SOURCE:
            return True
        model = _ANSWER_SOURCES[flag.source_object_type]
        code = (
            model.objects.filter(pk=flag.source_object_id, patient=patient)
            .values_list("instrument", flat=True)
            .first()
        )
        if code is None:
            continue
        try:
            instrument = instruments.get(code)
        except instruments.InstrumentUnknown:
            continue
        if "self" in instrument.respondents and any(
            rule.code == flag.code for rule in instrument.flags
        ):
            return True
    return False
