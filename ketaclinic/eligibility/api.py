"""Evaluations and eligibility decisions. Mounted at the API root: paths are written
out in full. Ids are taken as text and parsed by the selectors, so that a malformed id answers
the same JSON 404 as an unknown one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.api.errors import json_response, problems_response
from ketaclinic.eligibility import selectors as evaluation_selectors
from ketaclinic.eligibility import services as evaluation_services
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
from ketaclinic.eligibility.schemas import DecisionIn, DecisionOut, DetailOut, EvaluationOut
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.web.request_body import BodyRefused, json_body, problem_response

router = Router(tags=["eligibility"])

_EVALUATION_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": (
                        "diagnoses (ICD-10-CM codes), baseline_scores, prior_treatments "
                        "(kind medication: name, drug_class, daily_dose_mg, weeks, response, "
                        "side_effects; kind psychotherapy: name, sessions), medical_history, "
                        "medications, allergies, vitals (systolic, diastolic, heart_rate, spo2, "
                        "weight_kg, height_cm), contraindications (checklist codes, including "
                        "pregnancy, psychosis, mania and substance use), notes"
                    ),
                }
            }
        },
    }
}


def decision_out(row: EligibilityDecision) -> dict[str, Any]:
    return {
        "id": row.pk,
        "evaluation": row.evaluation_id,
        "decision": row.decision,
        "rationale": row.rationale,
        "against_proposal": bool(row.snapshot.get("against_proposal")),
        "decided_by": row.decided_by.get_username(),
        "decided_at": row.decided_at,
        "digest": row.digest,
    }


def evaluation_out(row: Evaluation, decision: EligibilityDecision | None = None) -> dict[str, Any]:
    return {
        "id": row.pk,
        "patient": row.patient_id,
        "created_by": row.created_by.get_username(),
        "created_at": row.created_at,
        "rules_version": row.ruleset.version,
        "evaluation": row.input_json,
        "proposal": row.proposal_json,
        "decision": decision_out(decision) if decision is not None else None,
    }


def _body_object(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    # The API's strict reader (ketaclinic/web/request_body.py) has already refused a body
    # that is not UTF-8 JSON, nests too deep, or holds NUL or a lone surrogate (400).
    try:
        data = json_body(request) if request.body else None
    except BodyRefused as refusal:
        return problem_response(refusal)
    if not isinstance(data, dict):
        problem = {
            "loc": ["body"],
            "field": "body",
            "msg": "must be a JSON object",
            "type": "invalid",
        }
        return problems_response(request, [problem])
    return data


@router.post(
    "/patients/{patient_id}/evaluations",
    response={201: EvaluationOut},
    url_name="patient_evaluations",
    openapi_extra=_EVALUATION_BODY_DOC,
)
def evaluation_create(request: HttpRequest, patient_id: str) -> Any:
    """Record an evaluation; 201 with the stored evaluation and the rules' proposal."""
    require(request.user, "evaluation.create")
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    data = _body_object(request)
    if isinstance(data, HttpResponse):
        return data
    row = evaluation_services.evaluation_create(
        acting_user=request.user, patient=patient, data=data
    )
    return Status(201, evaluation_out(row))


@router.get(
    "/patients/{patient_id}/evaluations",
    response=list[EvaluationOut],
    url_name="patient_evaluations",
)
def evaluations_list(request: HttpRequest, patient_id: str) -> list[dict[str, Any]]:
    require(request.user, "evaluation.view")
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    rows = evaluation_selectors.evaluations_list_for_patient(request.user, patient)
    decisions = evaluation_selectors.decisions_by_evaluation(rows)
    return [evaluation_out(row, decisions.get(row.pk)) for row in rows]


@router.get("/evaluations/{evaluation_id}", response=EvaluationOut, url_name="evaluation")
def evaluation_get(request: HttpRequest, evaluation_id: str) -> dict[str, Any]:
    row = evaluation_selectors.evaluation_get_for_user(request.user, evaluation_id)
    decisions = evaluation_selectors.decisions_by_evaluation([row])
    return evaluation_out(row, decisions.get(row.pk))


@router.post(
    "/evaluations/{evaluation_id}/decision",
    response={201: DecisionOut, 409: DetailOut},
    url_name="evaluation_decision",
)
def decision_record(request: HttpRequest, evaluation_id: str, payload: DecisionIn) -> Any:
    """Only a clinician decides; deciding against the proposal needs a rationale."""
    require(request.user, "eligibility.decide")
    evaluation = evaluation_selectors.evaluation_get_for_user(request.user, evaluation_id)
    try:
        row = evaluation_services.decision_record(
            acting_user=request.user,
            evaluation=evaluation,
            decision=payload.decision,
            rationale=payload.rationale,
        )
    except evaluation_services.DecisionRefused as exc:
        return json_response(request, {"detail": str(exc)}, 409)
    return Status(201, decision_out(row))
