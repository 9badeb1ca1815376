"""The patient's other clinicians, to whom letters go (the referrer comes with a referral)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.letters.models import Recipient
from ketaclinic.patients.models import Patient


@transaction.atomic
def recipient_add(
    *,
    acting_user: Any,
    patient: Patient,
    kind: str,
    name: str,
    organisation: str = "",
    email: str = "",
    address: str = "",
) -> Recipient:
    require(acting_user, "letter.draft")
    recipient = Recipient(
        patient=patient,
        kind=kind,
        name=name.strip(),
        organisation=organisation.strip(),
        email=email.strip(),
        address=address.strip(),
        created_by=acting_user,
    )
    recipient.full_clean()
    recipient.save()
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="LetterRecipient",
        object_id=recipient.pk,
        patient_id=patient.pk,
    )
    return recipient
