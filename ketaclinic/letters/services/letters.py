"""Letters: drafted from the template and the record, edited, signed (frozen, with the PDF
stored), and sent by e-mail or marked printed, each sending recorded."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.accounts.roles import ROLE_LABELS, Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.letters.models import (
    Letter,
    LetterKind,
    LetterSending,
    LetterStatus,
    Recipient,
    SendMethod,
)
from ketaclinic.letters.printing.letter import letter_pdf_bytes
from ketaclinic.letters.rules.content import (
    LetterContent,
    Signature,
    digest,
    fill,
    iso,
    score_rows_from,
    snapshot,
)
from ketaclinic.letters.services.facts import letter_facts
from ketaclinic.letters.services.templates import template_active
from ketaclinic.patients.models import Patient


class LetterSigned(Exception):
    """A signed letter never changes (HTTP 409)."""


def _audit(user: Any, action: Action, letter: Letter) -> None:
    audit_record(
        actor=user,
        action=action,
        object_type="Letter",
        object_id=letter.pk,
        patient_id=letter.patient_id,
    )


@transaction.atomic
def letter_draft(*, acting_user: Any, patient: Patient, kind: str, recipient: Recipient) -> Letter:
    """A new draft, prefilled from the active template and the record."""
    require(acting_user, "letter.draft")
    if kind not in LetterKind.values:
        raise ValidationError({"kind": ["Choose the kind of letter."]})
    if recipient.patient_id != patient.pk:
        raise ValidationError({"recipient": ["Choose one of this patient's clinicians."]})
    template = template_active(kind)
    facts = letter_facts(acting_user, patient=patient, kind=kind, recipient_name=recipient.name)
    values = facts["values"]
    letter = Letter(
        patient=patient,
        kind=kind,
        recipient=recipient,
        template_version=template.version,
        subject=fill(template.text.subject, values)[:200],
        body=fill(template.text.body, values),
        facts=facts,
        drafted_by=acting_user,
    )
    letter.full_clean()
    letter.save()
    _audit(acting_user, Action.CREATE, letter)
    return letter


def _locked_draft(letter: Letter) -> Letter:
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.status != LetterStatus.DRAFT:
        raise LetterSigned(str(letter.pk))
    return locked


@transaction.atomic
def letter_edit(*, acting_user: Any, letter: Letter, subject: str, body: str) -> Letter:
    require(acting_user, "letter.draft")
    locked = _locked_draft(letter)
    locked.subject = subject.strip()
    locked.body = body.strip()
    locked.updated_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=["subject", "body", "updated_at"])
    _audit(acting_user, Action.UPDATE, locked)
    return locked


def letter_content(letter: Letter) -> LetterContent:
    """What the PDF shows (and the signature covers), from the letter's row."""
    recipient = letter.recipient
    patient = letter.patient
    facts = letter.facts or {}
    return LetterContent(
        letter_id=str(letter.pk),
        kind=letter.kind,
        clinic_name=settings.KETACLINIC_CLINIC_NAME,
        clinic_address=settings.KETACLINIC_CLINIC_ADDRESS,
        clinic_phone=settings.KETACLINIC_CLINIC_PHONE,
        patient_name=patient.display_name,
        birth_date=iso(patient.birth_date),
        recipient_name=recipient.name,
        recipient_organisation=recipient.organisation,
        recipient_address=recipient.address,
        subject=letter.subject,
        body=letter.body,
        scores=score_rows_from(facts.get("scores", [])),
        score_note=str(facts.get("note", "")),
        dated=iso(timezone.localdate(letter.signed_at or timezone.now())),
    )


def signer_of(user: Any, at: Any) -> Signature:
    name = user.get_full_name() or user.get_username()
    try:
        role = ROLE_LABELS[Role(user.role)]
    except ValueError:
        role = str(user.role)
    return Signature(name=name, role=role, signed_at=f"{timezone.localtime(at):%Y-%m-%d %H:%M}")


@transaction.atomic
def letter_sign(*, acting_user: Any, letter: Letter) -> Letter:
    """Sign: the snapshot, its SHA-256 and the PDF are stored; the letter never changes."""
    require(acting_user, "letter.sign")
    locked = _locked_draft(letter)
    if not locked.body.strip():
        raise ValidationError({"body": ["A letter needs its text."]})
    now = timezone.now()
    locked.signed_at = now
    locked.signed_by = acting_user
    content = letter_content(locked)
    signature = signer_of(acting_user, now)
    locked.snapshot = snapshot(content, signature)
    locked.digest = digest(locked.snapshot)
    pdf = letter_pdf_bytes(content, signature, created=now)
    locked.pdf = pdf
    locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    locked.status = LetterStatus.SIGNED
    locked.save(
        update_fields=[
            "signed_at",
            "signed_by",
            "snapshot",
            "digest",
            "pdf",
            "pdf_sha256",
            "status",
        ]
    )
    _audit(acting_user, Action.EXECUTE, locked)
    return locked


def letter_verify(letter: Letter) -> bool:
    """The signed snapshot and PDF are as they were signed."""
    if letter.status != LetterStatus.SIGNED or letter.snapshot is None or letter.pdf is None:
        return False
    pdf_ok = hashlib.sha256(bytes(letter.pdf)).hexdigest() == letter.pdf_sha256
    return digest(letter.snapshot) == letter.digest and pdf_ok


def letter_file_name(letter: Letter) -> str:
    return f"letter-{letter.kind}-{letter.pk}.pdf"


@transaction.atomic
def letter_send(
    *, acting_user: Any, letter: Letter, method: str, to_email: str = ""
) -> LetterSending:
    """E-mail the signed PDF to the recipient (after commit), or record that it was printed."""
    require(acting_user, "letter.view")
    require(acting_user, "letter.draft")
    locked = Letter.objects.select_for_update().select_related("recipient").get(pk=letter.pk)
    if locked.status != LetterStatus.SIGNED or locked.pdf is None:
        raise ValidationError("Only a signed letter is sent.")
    recipient = locked.recipient
    if method == SendMethod.EMAIL:
        address = (to_email or recipient.email).strip()
        if not address:
            raise ValidationError({"to_email": ["The recipient has no e-mail address."]})
    elif method == SendMethod.PRINT:
        address = recipient.address
    else:
        raise ValidationError({"method": ["Choose e-mail or print."]})
    sending = LetterSending(
        letter=locked,
        method=method,
        to_name=recipient.name,
        to_address=address,
        sent_by=acting_user,
    )
    sending.full_clean()
    sending.save()
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="LetterSending",
        object_id=sending.pk,
        patient_id=locked.patient_id,
    )
    if method == SendMethod.EMAIL:
        pdf = bytes(locked.pdf)
        name = letter_file_name(locked)
        # Nothing about the patient in the subject or body (mail servers log subjects): the
        # letter itself is the attachment.
        message = EmailMessage(
            subject=f"A letter from {settings.KETACLINIC_CLINIC_NAME}",
            body=(
                f"Please find attached a letter from {settings.KETACLINIC_CLINIC_NAME}.\n\n"
                f"{settings.KETACLINIC_CLINIC_NAME}, {settings.KETACLINIC_CLINIC_PHONE}"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        )
        message.attach(name, pdf, "application/pdf")
        transaction.on_commit(lambda: message.send(fail_silently=False))
    return sending
