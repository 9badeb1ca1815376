"""Care plan pieces other apps' pages include: the patient page's card (with "care plan
review due"), the portal home's card, and the latest integration notes at the session's
pre-checks (where the prescriber looks before the next infusion). Reads audited."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ketaclinic.careplan import selectors
from ketaclinic.careplan.rules.versions import review_due
from ketaclinic.patients.models import Patient

register = template.Library()


@register.inclusion_tag("careplan/_patient_card.html")
def careplan_patient_card(user: Any, patient: Patient) -> dict[str, Any]:
    if not selectors.may_view_plan(user, patient):
        return {"hidden": True, "patient": patient}
    signed = selectors.latest_signed(patient)
    return {
        "patient": patient,
        "signed": signed,
        "review_due": signed is not None and review_due(signed.review_on, timezone.localdate()),
    }


@register.inclusion_tag("careplan/_portal_card.html")
def careplan_portal_card(patient: Patient) -> dict[str, Any]:
    return {"signed": selectors.latest_signed(patient)}


@register.inclusion_tag("careplan/_before_infusion.html")
def integration_notes_before_infusion(user: Any, patient: Patient) -> dict[str, Any]:
    return {"patient": patient, "notes": selectors.notes_before_infusion(user, patient)}
