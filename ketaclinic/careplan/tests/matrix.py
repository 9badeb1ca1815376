"""Builders for the care plan's rows of the URL role matrix (tests/test_url_matrix.py): Pat's
signed plan naming the therapist persona, a draft, a note."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from ketaclinic.careplan.models import CarePlanVersion
from ketaclinic.careplan.samples import plan_signed, therapist_get_or_create
from ketaclinic.careplan.services import notes, plans
from ketaclinic.testing import Clinic


def _signed(c: Clinic) -> CarePlanVersion:
    existing = CarePlanVersion.objects.filter(plan__patient=c.pat, status="signed").first()
    if existing is not None:
        return existing
    theo = c.users.get("theo") or therapist_get_or_create()
    c.users["theo"] = theo
    return plan_signed(clinician=c.users["ada"], patient=c.pat, therapist=theo)


def plan_url(suffix: str) -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        _signed(c)
        return f"/care-plans/patients/{c.pat.pk}/{suffix}"

    return build


def draft_url(c: Clinic) -> str:
    _signed(c)
    plans.careplan_draft_start(acting_user=c.users["ada"], patient=c.pat)
    return f"/care-plans/patients/{c.pat.pk}/edit/"


def note_url(*, signed: bool, suffix: str = "") -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        version = _signed(c)
        note = notes.integration_note_save(
            acting_user=c.users["theo"],
            plan=version.plan,
            session_on=timezone.localdate(),
            themes="Matrix note",
            intentions="",
            goal_progress=[],
            risk_positive=False,
            risk_note="",
        )
        if signed:
            notes.integration_note_sign(acting_user=c.users["theo"], note=note)
        return f"/care-plans/notes/{note.pk}/{suffix}"

    return build


def portal_url(c: Clinic) -> str:
    _signed(c)
    return "/portal/care-plan/"


def fhir_url(*, search: bool) -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        version = _signed(c)
        if search:
            return f"/fhir/R4/CarePlan?patient={c.pat.pk}"
        return f"/fhir/R4/CarePlan/{version.plan_id}"

    return build
