"""A patient's signature on a consent document version as an R4 Consent (treatment scope).

The policy is the signed document version (our canonical URL for it); the signature's
snapshot digest is kept as an identifier so a reader can check it against the clinic's copy."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.consent import Consent as FhirConsent

from ketaclinic.consent.models import ConsentSignature
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import (
    code_filter,
    id_filter,
    int_id,
    pk_lookup,
    reference_filter,
    rows_built,
    uuid_or_none,
)
from ketaclinic.fhir.search.engine import LAST_UPDATED, Source, date_filter
from ketaclinic.patients.selectors import patients_visible_to

CONSENT_STATE_SYSTEM = "http://hl7.org/fhir/consent-state-codes"
consent_pk = int_id("")


def consent_json(signature: ConsentSignature) -> dict[str, Any]:
    document = signature.document
    base = canonical_base()
    return {
        "resourceType": "Consent",
        "id": str(signature.pk),
        "identifier": [{"system": f"{base}/sid/consent-digest", "value": signature.digest}],
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "treatment",
                    "display": "Treatment",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "59284-0", "display": "Consent Document"}
                ],
                "text": document.title,
            }
        ],
        "patient": {"reference": f"Patient/{signature.patient_id}"},
        "dateTime": signature.signed_at.isoformat(),
        "policy": [{"uri": f"{base}/consent/{document.code}/v{document.version}"}],
        "sourceAttachment": {
            "title": f"{document.title}, version {document.version} ({signature.method})"
        },
    }


_build = rows_built(FhirConsent, consent_json)


def _rows(user: Any) -> QuerySet[Any]:
    return ConsentSignature.objects.filter(patient__in=patients_visible_to(user)).defer(
        "signature_image"
    )


_patient = reference_filter("patient", "Patient", uuid_or_none)

CONSENT_SOURCE = Source(
    rows=_rows,
    inserted="signed_at",
    last_updated=F("signed_at"),  # written once, never changed
    dates=F("signed_at"),
    filters={
        "_id": id_filter(consent_pk),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "date": date_filter("signed_at"),
        "status": code_filter({(CONSENT_STATE_SYSTEM, "active"): Q(pk__isnull=False)}),
    },
    build=_build,
    lookup=pk_lookup(consent_pk),
    prefetch=("document",),
)
