"""Consent documents, witnessed signatures and single-use signing links. Mounted at the API root:
paths are written out in full. Ids are taken as text and parsed by the selectors, so that a
malformed id answers the same JSON 404 as an unknown one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.consent import selectors as consent_selectors
from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.consent.schemas import (
    ConsentDocumentOut,
    ConsentLinkIn,
    ConsentLinkOut,
    ConsentSignatureOut,
    WitnessedConsentIn,
)
from ketaclinic.patients.selectors import patient_get_for_user

# Published under the "eligibility" tag, as before consent had its own app: the tag is part of
# the OpenAPI document that clients were generated from.
router = Router(tags=["eligibility"])


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
        "pdf_url": reverse("consent:consent_pdf", args=[row.pk]),
    }


@router.get("/consent-documents", response=list[ConsentDocumentOut], url_name="consent_documents")
def consent_documents(request: HttpRequest) -> list[dict[str, Any]]:
    """The current version of every consent document."""
    return [document_out(d) for d in consent_selectors.consent_documents_current(request.user)]


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
    rows = consent_selectors.consent_signatures_for_patient(request.user, patient)
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
            "url": request.build_absolute_uri(reverse("consent:consent_link", args=[issued.token])),
            "expires_at": issued.link.expires_at,
            "documents": [d.pk for d in consent_services.consent_link_documents(issued.link)],
        },
    )
