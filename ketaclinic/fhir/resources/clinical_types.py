"""The clinical record's resource types (issue 16): Condition, AllergyIntolerance, Medication,
MedicationRequest, with the search parameters each supports. ``registry.TYPES`` takes them in,
so they are routed, searched, read, audited and listed in the CapabilityStatement like the
others."""

from __future__ import annotations

from ketaclinic.fhir.resources.allergy import ALLERGY_SOURCE
from ketaclinic.fhir.resources.condition import CONDITION_SOURCE
from ketaclinic.fhir.resources.container import MEDICATION_SOURCE
from ketaclinic.fhir.resources.dose_order import MEDICATION_REQUEST_SOURCE
from ketaclinic.fhir.search.engine import ResourceType, SearchParam
from ketaclinic.fhir.search.params import Kind

_ID = SearchParam("_id", Kind.TOKEN, "the resource id (several, comma-separated)")
_LAST_UPDATED = SearchParam(
    "_lastUpdated", Kind.DATE, "when the resource last changed: eq, gt, lt, ge, le prefixes"
)
_PATIENT = SearchParam("patient", Kind.REFERENCE, "the patient (Patient/<id> or <id>)")
_SUBJECT = SearchParam("subject", Kind.REFERENCE, "the patient, as subject (Patient/<id>)")


def _date(name: str, what: str) -> SearchParam:
    return SearchParam(name, Kind.DATE, f"{what}: eq (default), gt, lt, ge, le; YYYY[-MM[-DD]]")


CLINICAL_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        "Condition",
        (CONDITION_SOURCE,),
        (
            _ID,
            _LAST_UPDATED,
            _PATIENT,
            _SUBJECT,
            SearchParam(
                "code",
                Kind.TOKEN,
                "ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm|F41.1) or SNOMED CT "
                "(http://snomed.info/sct|21897009), or a code alone",
            ),
            SearchParam("clinical-status", Kind.TOKEN, "active, resolved, … (condition-clinical)"),
            SearchParam(
                "verification-status",
                Kind.TOKEN,
                "confirmed, provisional, … (condition-ver-status)",
            ),
            SearchParam("category", Kind.TOKEN, "encounter-diagnosis or problem-list-item"),
            _date("recorded-date", "when it was recorded"),
        ),
        audit_type="Condition",
        patient_params=("patient", "subject"),
        sortable=("_lastUpdated", "recorded-date"),
        documentation="Diagnoses: one per diagnosis of each eligibility evaluation (recorded "
        "when it was saved, never changed), and imported Conditions (transaction Bundles).",
    ),
    ResourceType(
        "AllergyIntolerance",
        (ALLERGY_SOURCE,),
        (
            _ID,
            _LAST_UPDATED,
            _PATIENT,
            SearchParam(
                "code", Kind.TOKEN, "716186003 (SNOMED CT No known allergy); substances are text"
            ),
            SearchParam("clinical-status", Kind.TOKEN, "active"),
            SearchParam("verification-status", Kind.TOKEN, "confirmed (none) or unconfirmed"),
            _date("date", "when it was recorded"),
        ),
        audit_type="AllergyIntolerance",
        patient_params=("patient",),
        sortable=("_lastUpdated", "date"),
        documentation="Allergies recorded with eligibility evaluations; an empty list is "
        "recorded as no known allergies (SNOMED CT 716186003).",
    ),
    ResourceType(
        "Medication",
        (MEDICATION_SOURCE,),
        (
            _ID,
            _LAST_UPDATED,
            SearchParam("code", Kind.TOKEN, "RxNorm 6130 (ketamine) or the NDC"),
            SearchParam("lot-number", Kind.TOKEN, "the lot"),
            _date("expiration-date", "the lot's expiry"),
        ),
        audit_type="LedgerContainer",
        sortable=("_lastUpdated",),
        documentation="Ketamine containers received into the ledger (ids container-<n>): "
        "product, NDC, concentration and lot. Staff who see the ledger see all; a patient sees "
        "those drawn for their sessions.",
    ),
    ResourceType(
        "MedicationRequest",
        (MEDICATION_REQUEST_SOURCE,),
        (
            _ID,
            _LAST_UPDATED,
            _PATIENT,
            _SUBJECT,
            SearchParam("encounter", Kind.REFERENCE, "the session (Encounter/<id>)"),
            SearchParam("status", Kind.TOKEN, "active, completed or cancelled"),
            SearchParam("intent", Kind.TOKEN, "order"),
        ),
        audit_type="MedicationRequest",
        patient_params=("patient", "subject"),
        sortable=("_lastUpdated",),
        documentation="Each session's dose order (ids are the session's): the protocol's or "
        "prescriber's mg/kg and the calculated dose; requester is the approving prescriber.",
    ),
)
