"""Template helpers of the outcomes app: a proportion as a percentage, and the patient page's
outcome summary (the hook the patient page includes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ketaclinic.accounts.access import user_can
from ketaclinic.lib.form_renderer import shown_text
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


DASH = "—"


@register.simple_tag
def outcome_timeline(measure: Any, follow_ups: Sequence[tuple[str, str]]) -> SafeString:
    """The outcome card's timeline rows (the score after each infusion and at each follow-up)
    written in Python with exactly the bytes of their template, ``outcomes/_timeline_rows.html``
    (``tests/test_card_html.py`` compares the two): a long course is a cell per infusion per
    measure, the card's largest share of its template time."""
    scores = measure.infusion_scores
    baseline = measure.baseline
    head = "".join(f'<th scope="col">{n}</th>' for n in range(1, len(scores) + 1))
    head += "".join(f'<th scope="col">{shown_text(label)}</th>' for _, label in follow_ups)
    cells = "".join(f"<td>{DASH if s is None else shown_text(s)}</td>" for s in scores)
    for code, _ in follow_ups:
        found = measure.follow_ups.get(code)
        if found:
            shown = shown_text(found.score) + (" (response)" if found.responded else "")
        else:
            shown = DASH
        cells += f"<td>{shown}</td>"
    return mark_safe(  # noqa: S308  every value escaped above
        '<thead><tr><th scope="row">After infusion</th><th scope="col">Baseline</th>'
        f"{head}</tr></thead>\n"
        '        <tbody><tr><th scope="row">Score</th>'
        f"<td>{DASH if baseline is None else shown_text(baseline)}</td>{cells}</tr></tbody>"
    )


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
