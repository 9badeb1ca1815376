"""Pages: the eligibility rule-set editor, and evaluations with their proposals and the
clinician's decision."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ketaclinic.accounts.access import require, user_can
from ketaclinic.eligibility import selectors as evaluation_selectors
from ketaclinic.eligibility import services as evaluation_services
from ketaclinic.eligibility.forms import (
    DecisionForm,
    EvaluationForms,
    RuleSetForm,
    checklist_choices,
)
from ketaclinic.eligibility.models import Evaluation, RuleSetVersion
from ketaclinic.eligibility.rules.fields import rule_fields, version_next
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user, patient_open_flags


@login_required
@require_http_methods(["GET", "POST"])
def rules_edit(request: HttpRequest) -> HttpResponse:
    """An administrator edits the rules by saving a new version of the whole rule set."""
    require(request.user, "rules.edit")
    active = evaluation_services.ruleset_active().row
    form = RuleSetForm(
        request.POST or None,
        initial={"rules_json": evaluation_services.ruleset_json_pretty(active)},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = evaluation_services.ruleset_version_create(
                    acting_user=request.user,
                    rules_text=form.cleaned_data["rules_json"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, f"Rule set {created.version} saved and now in use.")
                return redirect("eligibility:rules")
        status = 422
    context = {
        "form": form,
        "active": active,
        "versions": evaluation_selectors.ruleset_versions(),
    }
    return render(request, "eligibility/rules_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rules_form(request: HttpRequest) -> HttpResponse:
    """An administrator edits the rules' thresholds and lists as a form, each with its rule's
    source beside it; saving makes a new version (the JSON page stays for export and import)."""
    require(request.user, "rules.edit")
    active = evaluation_services.ruleset_active().row
    fields = rule_fields(active.rules_json)
    taken = set(RuleSetVersion.objects.values_list("version", flat=True))
    submitted: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    version = version_next(active.version, taken)
    note = ""
    status = 200
    if request.method == "POST":
        submitted = {f.path: request.POST.get(f"v{i}", "") for i, f in enumerate(fields)}
        version = request.POST.get("version", "")[:60]
        note = request.POST.get("note", "")[:600]
        try:
            created = evaluation_services.ruleset_version_edit(
                acting_user=request.user,
                base=active,
                values=submitted,
                version=version,
                note=note,
            )
        except ValidationError as exc:
            errors = exc.message_dict
            status = 422
        else:
            messages.success(request, f"Rule set {created.version} saved and now in use.")
            return redirect("eligibility:rules_form")
    rows = [
        {
            "index": index,
            "field": field,
            "shown": submitted.get(field.path, _shown(field.value)),
            "error": " ".join(errors.get(field.path, [])),
            "first": index == 0 or fields[index - 1].rule_code != field.rule_code,
            "is_text": isinstance(field.value, str),
            "lines": _lines(submitted.get(field.path, _shown(field.value)), field.value),
        }
        for index, field in enumerate(fields)
    ]
    context = {
        "active": active,
        "rows": rows,
        "version": version,
        "note": note,
        "version_error": " ".join(errors.get("version", [])),
        "note_error": " ".join(errors.get("note", [])),
        "problems": errors.get("rules", []),
        "field_errors": any(row["error"] for row in rows),
        "versions": evaluation_selectors.ruleset_versions(),
    }
    return render(request, "eligibility/rules_form.html", context, status=status)


def _lines(shown: str, value: object) -> int:
    """Rows for a text box: the wording spans two columns, a list one."""
    per_line = 50 if isinstance(value, str) else 22
    return max(2, min(6, len(shown) // per_line + 1))


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


# -- evaluation and decision pages -------------------------------------------------------------

REASON_KINDS = {
    "absolute_contraindication": "Absolute contraindication",
    "relative_contraindication": "Relative contraindication",
    "requirement": "Requirement not met",
}


def _patient_or_404(request: HttpRequest, patient_id: UUID) -> Patient:
    try:
        return patient_get_for_user(request.user, patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None


def _evaluation_or_404(request: HttpRequest, evaluation_id: int) -> Evaluation:
    try:
        return evaluation_selectors.evaluation_get_for_user(request.user, evaluation_id)
    except Evaluation.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def patient_evaluations(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """The patient's evaluations with their proposals and decisions, newest first."""
    require(request.user, "evaluation.view")
    patient = _patient_or_404(request, patient_id)
    rows = evaluation_selectors.evaluations_list_for_patient(request.user, patient)
    decisions = evaluation_selectors.decisions_by_evaluation(rows)
    context = {
        "patient": patient,
        "flags": patient_open_flags(patient),
        "evaluations": [(row, decisions.get(row.pk)) for row in rows],
        "can_evaluate": user_can(request.user, "evaluation.create"),
    }
    return render(request, "eligibility/evaluation_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """A clinician records an evaluation; the same service as the API makes the proposal."""
    require(request.user, "evaluation.create")
    patient = _patient_or_404(request, patient_id)
    checklist = checklist_choices(evaluation_services.ruleset_active().ruleset)
    forms = EvaluationForms.build(request.POST or None, checklist)
    status = 200
    if request.method == "POST":
        if forms.is_valid():
            try:
                row = evaluation_services.evaluation_create(
                    acting_user=request.user, patient=patient, data=forms.evaluation_data()
                )
            except ValidationError as exc:
                forms.errors_onto(exc.message_dict)
            else:
                messages.success(request, "Evaluation recorded.")
                return redirect("eligibility:evaluation", evaluation_id=row.pk)
        status = 422
    context = {"patient": patient, "flags": patient_open_flags(patient), "forms": forms}
    return render(request, "eligibility/evaluation_form.html", context, status=status)


def _evaluation_page(
    request: HttpRequest, evaluation: Evaluation, form: DecisionForm | None, status: int = 200
) -> HttpResponse:
    decision = evaluation_selectors.decisions_by_evaluation([evaluation]).get(evaluation.pk)
    latest = evaluation_selectors.evaluation_latest_id(evaluation.patient)
    context = {
        "evaluation": evaluation,
        "patient": evaluation.patient,
        "flags": patient_open_flags(evaluation.patient),
        "proposal": evaluation.proposal_json,
        "reasons": [
            {**reason, "kind_label": REASON_KINDS.get(reason["kind"], reason["kind"])}
            for reason in evaluation.proposal_json.get("reasons", [])
        ],
        "data": evaluation.input_json,
        "decision": decision,
        "decision_verified": decision is not None and evaluation_services.decision_verify(decision),
        "is_latest": latest == evaluation.pk,
        "form": form,
        "can_consent": user_can(request.user, "consent.record"),
    }
    return render(request, "eligibility/evaluation_detail.html", context, status=status)


@login_required
@require_GET
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """The proposal (outcome, reasons with their sources, rules version) and the decision."""
    evaluation = _evaluation_or_404(request, evaluation_id)
    form = DecisionForm() if user_can(request.user, "eligibility.decide") else None
    return _evaluation_page(request, evaluation, form)


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_decide(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """Only a clinician decides; against the proposal only with a rationale (the service's
    rule). The signed decision is shown on the evaluation's page."""
    require(request.user, "eligibility.decide")
    evaluation = _evaluation_or_404(request, evaluation_id)
    form = DecisionForm(request.POST or None)
    if request.method == "GET":
        return _evaluation_page(request, evaluation, form)
    if form.is_valid():
        try:
            evaluation_services.decision_record(
                acting_user=request.user,
                evaluation=evaluation,
                decision=form.cleaned_data["decision"],
                rationale=form.cleaned_data["rationale"],
            )
        except evaluation_services.DecisionRefused as exc:
            form.add_error(None, str(exc))
            return _evaluation_page(request, evaluation, form, status=409)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, "Decision signed.")
            return redirect("eligibility:evaluation", evaluation_id=evaluation.pk)
    return _evaluation_page(request, evaluation, form, status=422)
