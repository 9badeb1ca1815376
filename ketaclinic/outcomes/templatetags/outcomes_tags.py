"""Template helpers of the outcomes app: a proportion as a percentage, and the patient page's
outcome summary (the hook the patient page includes)."""

from __future__ import annotations

from typing import Any

from django import template

from ketaclinic.accounts.access import user_can
from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.selectors import patient_outcome_summary
from ketaclinic.outcomes.selectors.card import card_from_kept_rows, card_from_summary
from ketaclinic.outcomes.services.upkeep import kept_rows_current
from ketaclinic.outcomes.tracking import flags_for_patient

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.2366 -> "23.7 %"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f} %"


@register.filter
def label_of(labels: dict[str, str], code: str) -> str:
    return labels.get(code, code) if code else "No diagnosis recorded"


@register.filter
def gte(text: str) -> str:
    """The data's ASCII ">=" and "<=" as the signs a reader expects."""
    return text.replace(">=", "≥").replace("<=", "≤")


@register.filter
def follow_up(follow_ups: dict[str, Any], code: str) -> Any:
    """The assessment at a follow-up point, by its code (None when there is no score)."""
    return follow_ups.get(code)


@register.filter
def item(mapping: dict[str, Any], key: str) -> Any:
    """``mapping[key]`` in a template (None when absent)."""
    return mapping.get(key)


@register.simple_tag(takes_context=True)
def patient_outcomes(context: template.Context, patient: Any) -> dict[str, Any]:
    """The patient's outcome summary for the signed-in staff member; empty for anyone who may
    not read any patient's record. Not audited on its own: it is part of the patient page,
    whose read is recorded once (as the Patient's). From the kept outcome rows when they are
    current for the patient, else computed live (``selectors.card``)."""
    user = context["request"].user
    if patient is None or getattr(patient, "pk", None) is None:
        return {"visible": False, "courses": []}
    if not user_can(user, "patient.view_any"):
        return {"visible": False, "courses": []}
    defs = shipped_definitions()
    if kept_rows_current(patient.pk, defs.label):
        courses = card_from_kept_rows(patient.pk, defs)
    else:
        courses = card_from_summary(patient_outcome_summary(user, patient, audit=False))
    return {
        "visible": True,
        "courses": courses,
        "window_days": defs.baseline_window_days,
        "not_on_track": flags_for_patient(patient.pk),
    }
