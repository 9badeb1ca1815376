"""The patient page's card of referrals and letters (staff who may read letters)."""

from __future__ import annotations

from typing import Any

from django import template

from ketaclinic.accounts.access import user_can
from ketaclinic.letters import selectors
from ketaclinic.letters.models import LetterStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def letters_patient_summary(context: template.Context, patient: Any) -> dict[str, Any] | None:
    user = context["request"].user
    if patient is None or not user_can(user, "letter.view"):
        return None
    letters = selectors.letters_for_patient(user, patient)
    signed = sum(1 for letter in letters if letter.status == LetterStatus.SIGNED)
    return {
        "referrals": selectors.referrals_for_patient(user, patient),
        "signed": signed,
        "drafts": len(letters) - signed,
    }
