"""The patient banner's eligibility decision (one query, wherever the banner is shown), and the
patient page's eligibility and consent summary."""

from __future__ import annotations

from typing import Any

from django import template

from ketaclinic.accounts.access import user_can
from ketaclinic.consent import selectors as consent_selectors
from ketaclinic.consent.services import consent_missing
from ketaclinic.eligibility.models import EligibilityDecision
from ketaclinic.eligibility.services import decision_latest

register = template.Library()


@register.simple_tag
def eligibility_decision_latest(patient: Any) -> EligibilityDecision | None:
    if patient is None or getattr(patient, "pk", None) is None:
        return None
    return decision_latest(patient)


@register.simple_tag(takes_context=True)
def patient_eligibility_summary(context: template.Context, patient: Any) -> dict[str, Any]:
    """What the patient page shows of eligibility and consent, for the signed-in user: the
    links they may follow, the signatures (an audited read) and the documents still unsigned."""
    user = context["request"].user
    can_view_consent = user_can(user, "consent.view")
    signatures = (
        consent_selectors.consent_signature_lines_for_patient(user, patient)
        if can_view_consent
        else []
    )
    return {
        "can_view_evaluations": user_can(user, "evaluation.view"),
        "can_record_consent": user_can(user, "consent.record"),
        "can_view_consent": can_view_consent,
        "signatures": signatures,
        "missing": consent_missing(patient) if can_view_consent else [],
    }
