"""Stored documents as R4 DocumentReferences, their content served as ``Binary``.

Today the clinic keeps one kind of document per patient: the PDF copy of a signed consent
(``consent.pdf``, rendered from the signature row, which never changes). Its DocumentReference
(id ``consent-<n>``, the signature's id) points at ``Binary/consent-<n>`` under the FHIR base
(a relative URL, resolved like a reference), which serves the same PDF with the same access
check and audit as the DocumentReference. The attachment carries the PDF's size and its SHA-1
(R4 ``Attachment.hash`` is the base64 SHA-1 of the data:
https://hl7.org/fhir/R4/datatypes.html#Attachment); the PDF is rendered with the signature time
as its creation date, so the bytes, and the hash, are the same on every request.

type: LOINC 59284-0 (the code the Consent resource uses); category: ``consent`` in our
``<base>/CodeSystem/document-category`` (the R4 DocumentReference category value set is an
example binding with no consent code: https://hl7.org/fhir/R4/valueset-document-classcodes.html
is XDS class codes, which a clinic outside an XDS affinity domain does not use)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

from ketaclinic.consent.models import ConsentSignature
from ketaclinic.consent.pdf import consent_pdf_bytes
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import code_filter, reference_filter, uuid_or_none, validated
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.patients.selectors import patients_visible_to

LOINC = "http://loinc.org"
CONSENT_TYPE = ("59284-0", "Consent Document")
PDF = "application/pdf"


def document_category_system() -> str:
    return f"{canonical_base()}/CodeSystem/document-category"


def consent_document_id(signature_pk: int) -> str:
    return f"consent-{signature_pk}"


def consent_key(raw: str) -> int | None:
    number = raw.removeprefix("consent-")
    return int(number) if raw.startswith("consent-") and number.isdigit() else None


def attachment_facts(content: bytes) -> dict[str, Any]:
    """``size`` and ``hash`` (base64 SHA-1, as R4's Attachment defines it) of the content."""
    sha1 = hashlib.sha1(content, usedforsecurity=False).digest()
    return {"size": len(content), "hash": base64.b64encode(sha1).decode("ascii")}


def consent_document_json(signature: ConsentSignature, pdf: bytes) -> dict[str, Any]:
    document = signature.document
    title = f"{document.title}, version {document.version}"
    return {
        "resourceType": "DocumentReference",
        "id": consent_document_id(signature.pk),
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": CONSENT_TYPE[0], "display": CONSENT_TYPE[1]}],
            "text": document.title,
        },
        "category": [
            {
                "coding": [
                    {
                        "system": document_category_system(),
                        "code": "consent",
                        "display": "Signed consent",
                    }
                ]
            }
        ],
        "subject": {"reference": f"Patient/{signature.patient_id}"},
        "date": signature.signed_at.isoformat(),
        "author": [{"reference": f"Practitioner/{practitioner_id(signature.recorded_by_id)}"}],
        "custodian": {"reference": f"Organization/{CLINIC_ID}"},
        "description": f"{title} ({signature.method}), signed copy",
        "content": [
            {
                "attachment": {
                    "contentType": PDF,
                    "url": f"Binary/{consent_document_id(signature.pk)}",
                    "title": f"{title}.pdf",
                    "creation": signature.signed_at.isoformat(),
                }
                | attachment_facts(pdf)
            }
        ],
        "context": {"related": [{"reference": f"Consent/{signature.pk}"}]},
    }


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            consent_document_id(s.pk),
            validated(FhirDocumentReference, consent_document_json(s, consent_pdf_bytes(s))),
            s.patient_id,
            getattr(s, LAST_UPDATED),
        )
        for s in rows
    ]


def consent_signatures_visible_to(user: Any) -> QuerySet[Any]:
    """The signatures whose documents the user may read (staff: all; a patient: their own)."""
    return ConsentSignature.objects.filter(patient__in=patients_visible_to(user))


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    return rows.filter(pk__in=[k for k in map(consent_key, raw.split(",")) if k is not None])


def _lookup(raw: str) -> Q | None:
    key = consent_key(raw)
    return None if key is None else Q(pk=key)


_patient = reference_filter("patient", "Patient", uuid_or_none)
_everything = Q(pk__isnull=False)

DOCUMENT_REFERENCE_SOURCE = Source(
    rows=consent_signatures_visible_to,
    inserted="signed_at",
    last_updated=F("signed_at"),  # the signature never changes, so neither does its PDF
    dates=F("signed_at"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "date": date_filter("signed_at"),
        "type": code_filter({(LOINC, CONSENT_TYPE[0]): _everything}),
        "category": lambda rows, raw: code_filter(
            {(document_category_system(), "consent"): _everything}
        )(rows, raw),
        "related": reference_filter(
            "pk", "Consent", lambda raw: int(raw) if raw.isdigit() else None
        ),
    },
    build=_build,
    lookup=_lookup,
    prefetch=("document", "patient", "recorded_by", "witnessed_by"),
)
