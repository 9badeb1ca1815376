"""Evaluations, eligibility decisions and consent. Mounted at the API root: paths are written
out in full. Ids are taken as text and parsed by the selectors, so that a malformed id answers
the same JSON 404 as an unknown one."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.api import api, problems_response
from ketaclinic.intake import consent_services, evaluation_selectors, evaluation_services
from ketaclinic.intake.evaluation_schemas import (
    ConsentDocumentOut,
    ConsentLinkIn,
    ConsentLinkOut,
    ConsentSignatureOut,
    DecisionIn,
    DecisionOut,
    DetailOut,
    EvaluationOut,
    WitnessedConsentIn,
)
from ketaclinic.intake.models_eligibility import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
    Evaluation,
)
from ketaclinic.patients.selectors import patient_get_for_user

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
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        data = None
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
        return api.create_response(request, {"detail": str(exc)}, status=409)
    return Status(201, decision_out(row))


# -- consent -----------------------------------------------------------------------------------


def document_out(row: ConsentDocument) -> dict[str, Any]:
    return {
        "id": row.pk,
        "code": row.code,
        "version": row.version,
        "title": row.title,
        "body": row.body,
        "effective_from": row.effective_from,
        "required": row.required,
        "digest": row.digest,
    }


def signature_out(row: ConsentSignature) -> dict[str, Any]:
    return {
        "id": row.pk,
        "patient": row.patient_id,
        "document": row.document_id,
        "document_code": row.document.code,
        "document_version": row.document.version,
        "document_title": row.document.title,
        "document_digest": row.document_digest,
        "signed_name": row.signed_name,
        "method": row.method,
        "witnessed_by": row.witnessed_by.get_username() if row.witnessed_by else None,
        "recorded_by": row.recorded_by.get_username(),
        "signed_at": row.signed_at,
        "has_drawn_signature": bool(row.signature_image),
        "digest": row.digest,
        "pdf_url": reverse("eligibility:consent_pdf", args=[row.pk]),
    }


@router.get("/consent-documents", response=list[ConsentDocumentOut], url_name="consent_documents")
def consent_documents(request: HttpRequest) -> list[dict[str, Any]]:
    """The current version of every consent document."""
    return [document_out(d) for d in evaluation_selectors.consent_documents_current(request.user)]


@router.post(
    "/patients/{patient_id}/consents",
    response={201: ConsentSignatureOut},
    url_name="patient_consents",
)
def consent_record(request: HttpRequest, patient_id: str, payload: WitnessedConsentIn) -> Any:
    """Staff record a signature they witnessed in person."""
    require(request.user, "consent.record")
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    row = consent_services.consent_record_witnessed(
        acting_user=request.user,
        patient=patient,
        document_id=payload.document,
        signed_name=payload.signed_name,
    )
    return Status(201, signature_out(row))


@router.get(
    "/patients/{patient_id}/consents",
    response=list[ConsentSignatureOut],
    url_name="patient_consents",
)
def consents_list(request: HttpRequest, patient_id: str) -> list[dict[str, Any]]:
    """The patient's signatures (a patient: their own)."""
    require(request.user, "consent.view")
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    rows = evaluation_selectors.consent_signatures_for_patient(request.user, patient)
    return [signature_out(row) for row in rows]


@router.post(
    "/patients/{patient_id}/consent-links",
    response={201: ConsentLinkOut},
    url_name="patient_consent_links",
)
def consent_link_create(request: HttpRequest, patient_id: str, payload: ConsentLinkIn) -> Any:
    """A single-use signing link for the patient; the URL is shown only in this answer."""
    require(request.user, "consent.record")
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    issued = consent_services.consent_link_create(
        acting_user=request.user,
        patient=patient,
        document_ids=payload.documents,
        hours=payload.hours,
    )
    return Status(
        201,
        {
            "url": request.build_absolute_uri(
                reverse("eligibility:consent_link", args=[issued.token])
            ),
            "expires_at": issued.link.expires_at,
            "documents": [d.pk for d in consent_services.consent_link_documents(issued.link)],
        },
    )
