"""The patient banner's eligibility decision: one query, wherever the banner is shown."""

from __future__ import annotations

from typing import Any

from django import template

from ketaclinic.intake.evaluation_services import decision_latest
from ketaclinic.intake.models_eligibility import EligibilityDecision

register = template.Library()


@register.simple_tag
def eligibility_decision_latest(patient: Any) -> EligibilityDecision | None:
    if patient is None or getattr(patient, "pk", None) is None:
        return None
    return decision_latest(patient)
