"""The staff's care plan pages: the plan with its goals, check-ins and integration notes; the
editor (a draft); signing; the history of versions. Thin: selectors read, services write."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import require, user_can
from ketaclinic.careplan import selectors
from ketaclinic.careplan.forms import (
    CheckInForm,
    GoalFormSet,
    PlanForm,
    ProblemFormSet,
    content_from,
    goals_initial,
    initial_from,
)
from ketaclinic.careplan.models import CarePlanVersion, VersionStatus
from ketaclinic.careplan.rules.safety_plan import SECTIONS, professionals_with_crisis_line
from ketaclinic.careplan.services import plans
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.patients.models import FlagStatus, Patient


def _banner(patient: Patient) -> dict[str, Any]:
    return {
        "patient": patient,
        "open_flags": list(patient.flags.filter(status=FlagStatus.ACTIVE)),
        "can_open_record": False,
    }


def version_context(user: Any, patient: Patient, version: CarePlanVersion) -> dict[str, Any]:
    """What a version says, ready for the page: goals with where they stand, the therapist's
    names, the course, the safety plan in its six sections (988 always listed)."""
    content = version.content
    therapy = content.get("psychotherapy", {})
    integration = content.get("integration", {})
    names = selectors.therapist_names(
        [therapy.get("therapist_id"), integration.get("therapist_id")]
    )
    safety = content.get("safety_plan", {})
    return {
        "version": version,
        "problems": content.get("problems", []),
        "goal_rows": selectors.goal_rows(user, patient, content),
        "course": selectors.course_of(content),
        "therapy": therapy,
        "therapy_therapist": names.get(therapy.get("therapist_id") or 0, ""),
        "integration": integration,
        "integration_therapist": names.get(integration.get("therapist_id") or 0, ""),
        "medications": content.get("medications", ""),
        "lifestyle": content.get("lifestyle", {}),
        "safety_sections": [
            (
                section,
                professionals_with_crisis_line(list(safety.get(section.key, [])))
                if section.key == "professionals"
                else safety.get(section.key, []),
            )
            for section in SECTIONS
        ],
    }


@login_required
def plan(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    require(request.user, "careplan.view")
    patient = selectors.patient_for_plan(request.user, patient_id)
    care_plan = selectors.plan_of(patient)
    versions = selectors.versions_for_user(request.user, patient) if care_plan else []
    signed = next((v for v in versions if v.status == VersionStatus.SIGNED), None)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    context: dict[str, Any] = {
        **_banner(patient),
        "signed": signed,
        "draft": draft,
        "can_edit": user_can(request.user, "careplan.edit"),
        "can_checkin": user_can(request.user, "careplan.checkin") and signed is not None,
        "checkin_form": CheckInForm(),
        "checkins": selectors.checkins_for_user(request.user, care_plan) if care_plan else [],
        "notes": selectors.notes_for_user(request.user, patient),
        "can_write_note": user_can(request.user, "integration.write") and signed is not None,
        "scores": selectors.scores_for_user(request.user, patient, limit=10),
        "review_due": selectors.review_is_due(patient),
    }
    if signed is not None:
        context.update(version_context(request.user, patient, signed))
    return render(request, "careplan/plan.html", context)


@login_required
@require_POST
def draft_start(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    require(request.user, "careplan.edit")
    patient = selectors.patient_for_plan(request.user, patient_id)
    plans.careplan_draft_start(acting_user=request.user, patient=patient)
    return redirect("careplan:edit", patient_id=patient.pk)


def _draft_or_404(user: Any, patient: Patient) -> CarePlanVersion:
    draft = next(
        (v for v in selectors.versions_for_user(user, patient) if v.status == VersionStatus.DRAFT),
        None,
    )
    if draft is None:
        raise Http404
    return draft


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """The draft's editor. "Save" keeps the draft; "Save and sign" signs it when complete."""
    require(request.user, "careplan.edit")
    patient = selectors.patient_for_plan(request.user, patient_id)
    draft = _draft_or_404(request.user, patient)
    if request.method == "POST":
        plan_form = PlanForm(request.POST, patient=patient)
        problems = ProblemFormSet(request.POST, prefix="problems")
        goals = GoalFormSet(request.POST, prefix="goals")
        if plan_form.is_valid() and problems.is_valid() and goals.is_valid():
            try:
                saved = plans.careplan_draft_save(
                    acting_user=request.user,
                    version=draft,
                    content=content_from(plan_form, problems, goals),
                    review_on=plan_form.cleaned_data["review_on"],
                    plan_status=plan_form.cleaned_data["plan_status"],
                )
            except ValidationError as exc:
                service_errors_onto(plan_form, exc)
            else:
                if "sign" not in request.POST:
                    messages.success(request, f"Draft version {saved.number} saved.")
                    return redirect("careplan:edit", patient_id=patient.pk)
                require(request.user, "careplan.sign")
                try:
                    plans.careplan_sign(acting_user=request.user, version=saved)
                except plans.SignRefused as exc:
                    plan_form.add_error(None, "Not signed yet: " + " ".join(exc.reasons))
                else:
                    messages.success(request, f"Version {saved.number} signed.")
                    return redirect("careplan:plan", patient_id=patient.pk)
        status = 422
    else:
        content = draft.content
        plan_form = PlanForm(
            initial=initial_from(content, review_on=draft.review_on, plan_status=draft.plan_status),
            patient=patient,
        )
        problems = ProblemFormSet(
            initial=[{"text": p} for p in content.get("problems", [])], prefix="problems"
        )
        goals = GoalFormSet(initial=goals_initial(content), prefix="goals")
        status = 200
    context = {
        **_banner(patient),
        "draft": draft,
        "plan_form": plan_form,
        "problems": problems,
        "goals": goals,
        "sections": SECTIONS,
        "can_sign": user_can(request.user, "careplan.sign"),
    }
    return render(request, "careplan/edit.html", context, status=status)


@login_required
def history(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    require(request.user, "careplan.view")
    patient = selectors.patient_for_plan(request.user, patient_id)
    versions = selectors.versions_for_user(request.user, patient)
    return render(request, "careplan/history.html", {**_banner(patient), "versions": versions})


@login_required
def version(request: HttpRequest, patient_id: UUID, number: int) -> HttpResponse:
    require(request.user, "careplan.view")
    patient = selectors.patient_for_plan(request.user, patient_id)
    row = selectors.version_for_user(request.user, patient, number)
    context = {**_banner(patient), **version_context(request.user, patient, row)}
    return render(request, "careplan/version.html", context)


@login_required
@require_POST
def checkin(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    require(request.user, "careplan.checkin")
    patient = selectors.patient_for_plan(request.user, patient_id)
    care_plan = selectors.plan_of(patient)
    if care_plan is None or selectors.latest_signed(patient) is None:
        raise Http404
    form = CheckInForm(request.POST)
    if form.is_valid():
        plans.lifestyle_checkin_record(
            acting_user=request.user,
            plan=care_plan,
            area=form.cleaned_data["area"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, "Check-in recorded.")
    else:
        messages.error(request, "Write how it is going before recording the check-in.")
    return redirect("careplan:plan", patient_id=patient.pk)
