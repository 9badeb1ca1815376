"""A patient chooses the language of their pages; kept on their portal record, audited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.portal.models import LanguagePreference
from ketaclinic.portal.selectors import own_patient_id


def supported(language: str) -> bool:
    return language in {code for code, _name in settings.LANGUAGES}


@transaction.atomic
def language_choose(*, acting_user: Any, language: str) -> LanguagePreference:
    """Store the signed-in patient's language (one of ``settings.LANGUAGES``)."""
    if not supported(language):
        raise ValueError(f"not a supported language: {language!r}")
    patient_id = own_patient_id(acting_user)
    row, _created = LanguagePreference.objects.update_or_create(
        patient_id=patient_id, defaults={"language": language, "changed_at": timezone.now()}
    )
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="LanguagePreference",
        object_id=row.pk,
        patient_id=patient_id,
    )
    return row


def language_keep_chosen(*, acting_user: Any, language: str) -> LanguagePreference | None:
    """Keep the language a patient chose before they had an account (the cookie on the
    invitation's welcome page), once they are signed in: only a supported language other
    than the default, and only when they have none kept yet (their own choice, or the one
    the clinic recorded when inviting them, wins)."""
    base = language.split("-", 1)[0].lower()
    default = settings.LANGUAGE_CODE.split("-", 1)[0].lower()
    if base == default or not supported(base):
        return None
    patient_id = own_patient_id(acting_user)
    if LanguagePreference.objects.filter(patient_id=patient_id).exists():
        return None
    return language_choose(acting_user=acting_user, language=base)
