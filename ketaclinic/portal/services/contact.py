"""A patient changes their own contact details: checked like staff's edit, stored with the
before and after values, audited as an update of the patient record."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.lib.text import TextKind, TextRefused, text_checked
from ketaclinic.patients.models import Patient
from ketaclinic.portal.models import ContactChange
from ketaclinic.portal.selectors import own_patient_id

CONTACT_FIELDS = ("email", "phone", "address", "emergency_contact")
_KINDS: dict[str, TextKind] = {
    "email": "line",
    "phone": "line",
    "address": "free",
    "emergency_contact": "free",
}


@transaction.atomic
def contact_update(*, acting_user: Any, changes: dict[str, str]) -> ContactChange | None:
    """Change the patient's own contact fields (others are a programming error). Nothing is
    written when nothing changed (None). The account's e-mail (for password reset) follows
    the record's, and so does its sign-in name when that was the old address (as the
    invitation makes it): a patient signs in with the address they now use."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    patient_id = own_patient_id(acting_user)
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for name, value in changes.items():
        try:
            cleaned[name] = text_checked(value, _KINDS[name]) if value else ""
        except TextRefused as exc:
            problems[name] = [str(exc)]
    if problems:
        raise ValidationError(problems)
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    before = {name: getattr(patient, name) for name in cleaned}
    changed = {name: value for name, value in cleaned.items() if before[name] != value}
    if not changed:
        return None
    for name, value in changed.items():
        setattr(patient, name, value)
    patient.updated_at = timezone.now()
    patient.full_clean()
    patient.save(update_fields=[*changed, "updated_at"])
    if changed.get("email"):
        _account_follows(acting_user, before["email"], changed["email"])
    row = ContactChange.objects.create(
        patient=patient,
        changed_by=acting_user,
        before={name: before[name] for name in changed},
        after=changed,
    )
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="Patient",
        object_id=patient.pk,
        patient_id=patient.pk,
    )
    return row


def _account_follows(acting_user: Any, old_email: str, new_email: str) -> None:
    account = User.objects.select_for_update().get(pk=acting_user.pk)
    fields = ["email"]
    account.email = new_email
    if account.username.casefold() == old_email.casefold():
        taken = User.objects.filter(username__iexact=new_email).exclude(pk=account.pk).exists()
        if taken:
            raise ValidationError(
                {"email": [_("Another account already uses this e-mail address.")]}
            )
        account.username = new_email
        fields.append("username")
    account.save(update_fields=fields)
