"""Writes of intake's pipeline: status changes, contact attempts, spam, conversion to a patient.

Each runs in one transaction, locks the inquiry, and writes its audit row there. An inquiry is
not in the clinical record, so its audit rows name no patient (and never a name or contact);
a conversion writes the patient's own audit row through ``patient_create``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.intake.models import ContactAttempt, Inquiry, InquiryStatus, InquiryStatusChange
from ketaclinic.intake.rules.pipeline import status_after_conversion, status_after_eligibility
from ketaclinic.intake.self_screen import SELF_SCREEN_CODES, record_taken_at
from ketaclinic.letters.services.referrals import referrals_carry_to_patient
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import patient_create
from ketaclinic.scales.services import answers_flags_open

CONVERSION_NOTE = "Converted into a patient record."
SELF_SCREEN_FLAG_NOTE = "; self-screen"
ELIGIBILITY_NOTES = {
    "evaluated": "The patient's eligibility evaluation was recorded.",
    "eligible": "A clinician decided: eligible.",
    "not_eligible": "A clinician decided: not eligible.",
}


class AlreadyConverted(Exception):
    """The inquiry already has a patient record (HTTP 409)."""


def _locked(inquiry: Inquiry) -> Inquiry:
    return Inquiry.objects.select_for_update().get(pk=inquiry.pk)


def _audit(user: Any, action: Action, object_type: str, object_id: object) -> None:
    audit_record(
        actor=user, action=action, object_type=object_type, object_id=object_id, patient_id=None
    )


def _status_move(*, acting_user: Any, inquiry: Inquiry, to_status: str, note: str) -> None:
    change = InquiryStatusChange(
        inquiry=inquiry,
        from_status=inquiry.status,
        to_status=to_status,
        by=acting_user,
        note=note.strip(),
    )
    change.full_clean()
    change.save(force_insert=True)
    _audit(acting_user, Action.CREATE, "InquiryStatusChange", change.pk)
    inquiry.status = to_status


@transaction.atomic
def inquiry_status_change(
    *,
    acting_user: Any,
    inquiry: Inquiry,
    status: str,
    note: str = "",
    follow_up_on: date | None = None,
) -> Inquiry:
    """Move the inquiry to ``status`` (history kept) and set its follow-up date (None: none)."""
    require(acting_user, "inquiry.manage")
    if status not in InquiryStatus.values:
        raise ValidationError({"status": [f"one of {', '.join(InquiryStatus.values)}"]})
    locked = _locked(inquiry)
    if locked.status == status:
        raise ValidationError({"status": ["The inquiry already has this status."]})
    _status_move(acting_user=acting_user, inquiry=locked, to_status=status, note=note)
    locked.follow_up_on = follow_up_on
    locked.save(update_fields=["status", "follow_up_on"])
    _audit(acting_user, Action.UPDATE, "Inquiry", locked.pk)
    return locked


@transaction.atomic
def inquiry_contact_log(
    *,
    acting_user: Any,
    inquiry: Inquiry,
    method: str,
    outcome: str,
    note: str = "",
    attempted_at: datetime | None = None,
    follow_up_on: date | None = None,
) -> ContactAttempt:
    """Log an attempt to reach the person and set the next follow-up (None: none).

    A first attempt that reached a new inquiry's person moves it to "contacted".
    """
    require(acting_user, "inquiry.manage")
    locked = _locked(inquiry)
    attempt = ContactAttempt(
        inquiry=locked,
        attempted_at=attempted_at or timezone.now(),
        by=acting_user,
        method=method,
        outcome=outcome,
        note=note.strip(),
    )
    attempt.full_clean()
    attempt.save(force_insert=True)
    _audit(acting_user, Action.CREATE, "ContactAttempt", attempt.pk)
    fields = ["follow_up_on"]
    if locked.status == InquiryStatus.NEW and outcome == "reached":
        _status_move(
            acting_user=acting_user,
            inquiry=locked,
            to_status=InquiryStatus.CONTACTED,
            note="Reached by a contact attempt.",
        )
        fields.append("status")
    locked.follow_up_on = follow_up_on
    locked.save(update_fields=fields)
    _audit(acting_user, Action.UPDATE, "Inquiry", locked.pk)
    return attempt


@transaction.atomic
def inquiry_spam_set(*, acting_user: Any, inquiry: Inquiry, is_spam: bool) -> Inquiry:
    """Mark an inquiry as spam (off the board) or back as a real inquiry."""
    require(acting_user, "inquiry.manage")
    locked = _locked(inquiry)
    if locked.patient_id is not None and is_spam:
        raise ValidationError({"is_spam": ["A converted inquiry is not spam."]})
    locked.is_spam = is_spam
    locked.save(update_fields=["is_spam"])
    _audit(acting_user, Action.UPDATE, "Inquiry", locked.pk)
    return locked


@transaction.atomic
def inquiry_convert(*, acting_user: Any, inquiry: Inquiry, **patient_fields: Any) -> Patient:
    """Create the patient record of the person who sent the inquiry, and link the two.

    The patient is created by ``patient_create`` (MRN, validation, audit); the inquiry moves
    on to "evaluation booked" when it was still before that step. A second conversion of the
    same inquiry raises ``AlreadyConverted``; a spam inquiry is refused.
    """
    require(acting_user, "inquiry.manage")
    require(acting_user, "patient.create")
    locked = _locked(inquiry)
    if locked.patient_id is not None:
        raise AlreadyConverted(locked.pk)
    if locked.is_spam:
        raise ValidationError("A spam inquiry is not converted; unmark it first.")
    patient = patient_create(acting_user=acting_user, **patient_fields)
    locked.patient = patient
    fields = ["patient"]
    to_status = status_after_conversion(locked.status)
    if to_status != locked.status:
        _status_move(
            acting_user=acting_user, inquiry=locked, to_status=to_status, note=CONVERSION_NOTE
        )
        fields.append("status")
    locked.save(update_fields=fields)
    # The link is patient data: this row names the patient, and never the inquirer's details.
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="Inquiry",
        object_id=locked.pk,
        patient_id=patient.pk,
    )
    _self_screen_flags_open(acting_user=acting_user, inquiry=locked, patient=patient)
    # A referral recorded on the inquiry reaches the record, its referrer a letter recipient.
    referrals_carry_to_patient(acting_user=acting_user, inquiry=locked, patient=patient)
    return patient


def _self_screen_flags_open(*, acting_user: Any, inquiry: Inquiry, patient: Patient) -> None:
    """The self-screen's answers reach the new record: each flag its instrument's rules raise
    (PHQ-9 item 9 above 0) is opened there, attributed to the self-screen (the inquiry) and
    dated when the person answered (the inquiry's time for a screen without its own date)."""
    for record in inquiry.self_screen:
        answers = record.get("answers")
        code = record.get("instrument")
        if not isinstance(answers, dict) or code not in SELF_SCREEN_CODES:
            continue  # the record's shape is checked when the inquiry is stored
        answers_flags_open(
            acting_user=acting_user,
            patient=patient,
            instrument_code=str(code),
            answers=answers,
            answered_at=record_taken_at(record) or inquiry.created_at,
            source_object_type="Inquiry",
            source_object_id=str(inquiry.pk),
            note=SELF_SCREEN_FLAG_NOTE,
        )


def inquiries_follow_eligibility(*, acting_user: Any, patient_id: Any, step: str) -> None:
    """Move the patient's inquiries on after an evaluation ("evaluated") or a decision.

    Called by the eligibility services inside their own transaction.
    """
    rows = Inquiry.objects.select_for_update().filter(patient_id=patient_id).order_by("pk")
    for inquiry in rows:
        to_status = status_after_eligibility(inquiry.status, step)
        if to_status == inquiry.status:
            continue
        _status_move(
            acting_user=acting_user,
            inquiry=inquiry,
            to_status=to_status,
            note=ELIGIBILITY_NOTES.get(step, ""),
        )
        inquiry.save(update_fields=["status"])
        audit_record(
            actor=acting_user,
            action=Action.UPDATE,
            object_type="Inquiry",
            object_id=inquiry.pk,
            patient_id=patient_id,
        )
