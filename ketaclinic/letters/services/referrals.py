"""Inbound referrals: recorded on an inquiry (with the referrer's letter, a PDF) and carried to
the patient record when the inquiry is converted."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import transaction
from django.utils.text import get_valid_filename

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.intake.models import Inquiry
from ketaclinic.letters.models import Recipient, RecipientKind, Referral, ReferrerRole
from ketaclinic.patients.models import Patient

# A referral letter is a few pages; 5 MB leaves room for a scanned one.
REFERRAL_MAX_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
NAME_MAX = 100


def pdf_checked(content: bytes) -> None:
    """A PDF by its bytes (not by its name or the browser's type), within the size limit."""
    if not content:
        raise ValidationError({"letter": ["The file is empty."]})
    if len(content) > REFERRAL_MAX_BYTES:
        raise ValidationError({"letter": ["The file is larger than 5 MB."]})
    if not content.lstrip(b"\r\n\t ")[:5] == PDF_MAGIC:
        raise ValidationError({"letter": ["The file is not a PDF."]})


def safe_file_name(name: str) -> str:
    """A name fit for a download header: letters, digits, dot, dash, underscore; ends .pdf."""
    stem = re.sub(r"\.pdf$", "", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1], flags=re.I)
    ascii_stem = stem.encode("ascii", "ignore").decode("ascii")
    try:
        cleaned = get_valid_filename(ascii_stem)
    except SuspiciousFileOperation:  # for "", "." and ".."
        cleaned = ""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "", cleaned).strip(".")[: NAME_MAX - 4]
    return f"{cleaned or 'referral-letter'}.pdf"


@transaction.atomic
def referral_record(
    *,
    acting_user: Any,
    inquiry: Inquiry,
    referrer_name: str,
    referrer_role: str,
    reason: str,
    received_on: date,
    referrer_organisation: str = "",
    referrer_email: str = "",
    referrer_phone: str = "",
    referrer_address: str = "",
    letter: bytes | None = None,
    letter_name: str = "",
) -> Referral:
    """A referral on an inquiry (and on its patient record, if it was converted already)."""
    require(acting_user, "referral.manage")
    if letter is not None:
        pdf_checked(letter)
    referral = Referral(
        inquiry=inquiry,
        patient_id=inquiry.patient_id,
        referrer_name=referrer_name.strip(),
        referrer_organisation=referrer_organisation.strip(),
        referrer_role=referrer_role,
        referrer_email=referrer_email.strip(),
        referrer_phone=referrer_phone.strip(),
        referrer_address=referrer_address.strip(),
        reason=reason.strip(),
        received_on=received_on,
        created_by=acting_user,
    )
    if letter is not None:
        referral.letter_pdf = letter
        referral.letter_name = safe_file_name(letter_name)
        referral.letter_size = len(letter)
        referral.letter_sha256 = hashlib.sha256(letter).hexdigest()
    if referrer_role not in ReferrerRole.values:
        raise ValidationError({"referrer_role": ["Choose the referrer's role."]})
    referral.full_clean()
    referral.save()
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Referral",
        object_id=referral.pk,
        patient_id=referral.patient_id,
    )
    if referral.patient_id is not None:
        _recipient_from(acting_user=acting_user, referral=referral, patient_id=referral.patient_id)
    return referral


def _recipient_from(*, acting_user: Any, referral: Referral, patient_id: Any) -> Recipient:
    """The referrer becomes one of the patient's letter recipients."""
    recipient = Recipient.objects.create(
        patient_id=patient_id,
        kind=RecipientKind.REFERRER,
        name=referral.referrer_name,
        organisation=referral.referrer_organisation,
        email=referral.referrer_email,
        address=referral.referrer_address,
        referral=referral,
        created_by=acting_user,
    )
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="LetterRecipient",
        object_id=recipient.pk,
        patient_id=patient_id,
    )
    return recipient


def referrals_carry_to_patient(*, acting_user: Any, inquiry: Inquiry, patient: Patient) -> int:
    """Called by the inquiry's conversion (``intake/services/pipeline.py``), in its transaction:
    the inquiry's referrals are linked to the new record, and each referrer becomes a letter
    recipient. Returns how many referrals were carried."""
    carried = 0
    for referral in Referral.objects.select_for_update().filter(inquiry=inquiry, patient=None):
        referral.patient = patient
        referral.save(update_fields=["patient"])
        audit_record(
            actor=acting_user,
            action=Action.UPDATE,
            object_type="Referral",
            object_id=referral.pk,
            patient_id=patient.pk,
        )
        _recipient_from(acting_user=acting_user, referral=referral, patient_id=patient.pk)
        carried += 1
    return carried
