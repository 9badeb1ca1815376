"""Allergies recorded with an eligibility evaluation as R4 AllergyIntolerances.

An evaluation whose allergy list the clinician left empty (or filled only with "none", "NKA",
"NKDA") records "no known allergies": one AllergyIntolerance coded SNOMED CT 716186003 No known
allergy (``eligibility/rules/data/diagnosis_codes.json``, its source there), not an allergen.
An evaluation without an allergy list records nothing: not asked is not none. Substances are
served as the clinician typed them (``code.text``), unconfirmed (reported at the evaluation)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance as FhirAllergyIntolerance

from ketaclinic.eligibility.models import Allergy
from ketaclinic.eligibility.rules.diagnosis_codes import code_table
from ketaclinic.fhir.resources.common import (
    code_filter,
    id_filter,
    int_id,
    pk_lookup,
    reference_filter,
    rows_built,
    uuid_or_none,
)
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.search.engine import LAST_UPDATED, Source, date_filter
from ketaclinic.fhir.search.params import token
from ketaclinic.patients.selectors import patients_visible_to

SNOMED = "http://snomed.info/sct"
CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"

allergy_pk = int_id("")


def allergy_json(row: Allergy) -> dict[str, Any]:
    table = code_table()
    if row.no_known:
        code: dict[str, Any] = {
            "coding": [{"system": SNOMED, "code": table.nka_code, "display": table.nka_display}],
            "text": "No known allergies",
        }
        verification = "confirmed"
    else:
        code = {"text": row.substance}
        verification = "unconfirmed"
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": str(row.pk),
        "clinicalStatus": {"coding": [{"system": CLINICAL_SYSTEM, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION_SYSTEM, "code": verification}]},
        "code": code,
        "patient": {"reference": f"Patient/{row.patient_id}"},
        "recordedDate": row.recorded_at.isoformat(),
    }
    if row.recorded_by_id is not None:
        resource["recorder"] = {"reference": f"Practitioner/{practitioner_id(row.recorded_by_id)}"}
    if row.evaluation_id is not None:
        resource["note"] = [{"text": "Recorded with the patient's eligibility evaluation."}]
    return resource


_build = rows_built(FhirAllergyIntolerance, allergy_json)


def _rows(user: Any) -> QuerySet[Any]:
    return Allergy.objects.filter(patient__in=patients_visible_to(user))


def _code(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    """``code=716186003`` (or ``http://snomed.info/sct|716186003``): the "no known allergies"
    records; substances are text only, so no other code matches."""
    nka = code_table().nka_code
    wanted = [token(part) for part in raw.split(",")]
    if any(t.code == nka and t.system in (None, SNOMED) for t in wanted):
        return rows.filter(no_known=True)
    return rows.none()


_patient = reference_filter("patient", "Patient", uuid_or_none)
_active = Q(pk__isnull=False)  # every recorded allergy is active: none is ever resolved here

ALLERGY_SOURCE = Source(
    rows=_rows,
    inserted="created_at",
    last_updated=F("created_at"),  # written once, never changed
    dates=F("recorded_at"),
    filters={
        "_id": id_filter(allergy_pk),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "code": _code,
        "clinical-status": code_filter({(CLINICAL_SYSTEM, "active"): _active}),
        "verification-status": code_filter(
            {
                (VERIFICATION_SYSTEM, "confirmed"): Q(no_known=True),
                (VERIFICATION_SYSTEM, "unconfirmed"): Q(no_known=False),
            }
        ),
        "date": date_filter("recorded_at"),
    },
    build=_build,
    lookup=pk_lookup(allergy_pk),
)
