"""Writes to patient records. Each runs in one transaction with its audit event."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.lib.text import TextKind, TextRefused, text_checked
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag

EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "birth_date",
    "sex_at_birth",
    "gender_identity",
    "pronouns",
    "email",
    "phone",
    "address",
    "emergency_contact",
    "referring_provider",
)


def _mrn_new() -> str:
    """A medical record number: KC and 7 random digits, unique."""
    for _ in range(20):
        candidate = f"KC{secrets.randbelow(10_000_000):07d}"
        if not Patient.objects.filter(mrn=candidate).exists():
            return candidate
    raise RuntimeError("could not find a free MRN")


# How each text field is checked (ketaclinic/lib/text.py); the rest are one-line texts.
_TEXT_KINDS: dict[str, TextKind] = {
    "given_name": "name",
    "family_name": "name",
    "address": "free",
    "emergency_contact": "free",
}


def _check_fields(fields: dict[str, Any]) -> None:
    """Unknown fields are a programming error; text is NFC-normalised in place, and control,
    invisible-format and direction-override characters are refused, whoever calls (the page
    form and the API check first, this covers every other way in, e.g. an inquiry's
    conversion)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not patient fields: {sorted(unknown)}")
    problems: dict[str, list[str]] = {}
    for name, value in fields.items():
        if not isinstance(value, str) or not value:
            continue
        try:
            fields[name] = text_checked(value, _TEXT_KINDS.get(name, "line"))
        except TextRefused as exc:
            problems[name] = [str(exc)]
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def patient_create(*, acting_user: Any, **fields: Any) -> Patient:
    """Create a patient record. `acting_user` None means the system (a management command).

    Raises django.core.exceptions.ValidationError with every field problem; nothing is stored.
    """
    if acting_user is not None:
        require(acting_user, "patient.create")
    _check_fields(fields)
    patient = Patient(mrn=_mrn_new(), **fields)
    patient.full_clean()
    patient.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Patient",
        object_id=patient.pk,
        patient_id=patient.pk,
    )
    return patient


@transaction.atomic
def patient_update(*, acting_user: Any, patient: Patient, changes: dict[str, Any]) -> Patient:
    """Change some fields of a patient record; all-or-nothing, audited."""
    if acting_user is not None:
        require(acting_user, "patient.change")
    changes = dict(changes)  # normalised in place below; the caller's dict is left alone
    _check_fields(changes)
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.updated_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=[*changes.keys(), "updated_at"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="Patient",
        object_id=locked.pk,
        patient_id=locked.pk,
    )
    return locked


class FlagAlreadyAcknowledged(Exception):
    """The flag was acknowledged before (by someone else, or by a second click)."""


@transaction.atomic
def safety_flag_acknowledge(*, acting_user: Any, flag: SafetyFlag, note: str) -> SafetyFlag:
    """A clinician acknowledges an active flag with a note. The flag is kept, never deleted:
    its status becomes acknowledged and it leaves the banner. Audited (U)."""
    require(acting_user, "flag.acknowledge")
    note = note.strip()
    if not note:
        raise ValidationError({"note": ["An acknowledgement needs a note."]})
    locked = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
    if locked.status != FlagStatus.ACTIVE:
        raise FlagAlreadyAcknowledged(locked.pk)
    locked.status = FlagStatus.ACKNOWLEDGED
    locked.acknowledged_by = acting_user
    locked.acknowledged_at = timezone.now()
    locked.acknowledgement_note = note
    locked.full_clean()
    locked.save(
        update_fields=["status", "acknowledged_by", "acknowledged_at", "acknowledgement_note"]
    )
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="SafetyFlag",
        object_id=locked.pk,
        patient_id=locked.patient_id,
    )
    return locked
