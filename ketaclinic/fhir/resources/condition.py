"""Diagnoses as R4 Conditions: the rows an eligibility evaluation recorded (one per diagnosis,
written when the evaluation was saved and never changed) and the Conditions imported in a
transaction Bundle (``fhir/importing/``).

Codes: ICD-10-CM, and SNOMED CT where the code table knows an equivalent
(``eligibility/rules/data/diagnosis_codes.json``, its source there; ../shared/domain/codes.md).
Statuses and categories from FHIR R4 (http://hl7.org/fhir/R4/condition.html):
condition-clinical, condition-ver-status, condition-category."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.condition import Condition as FhirCondition

from ketaclinic.eligibility.models import Diagnosis
from ketaclinic.eligibility.rules.diagnosis_codes import code_table, diagnosis_code
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

ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUSES = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")
VERIFICATION_STATUSES = (
    "unconfirmed",
    "provisional",
    "differential",
    "confirmed",
    "refuted",
    "entered-in-error",
)
CATEGORY_DISPLAY = {
    "encounter-diagnosis": "Encounter Diagnosis",
    "problem-list-item": "Problem List Item",
}
SEVERITY_DISPLAY = {"mild": "Mild", "moderate": "Moderate", "severe": "Severe"}

condition_pk = int_id("")


def _codings(row: Diagnosis) -> list[dict[str, str]]:
    codings = []
    if row.icd10:
        codings.append({"system": ICD10_CM, "code": row.icd10, "display": row.display})
    if row.snomed:
        known = diagnosis_code(row.icd10) if row.icd10 else None
        display = known.snomed_display if known and known.snomed == row.snomed else row.display
        codings.append({"system": SNOMED, "code": row.snomed, "display": display or row.display})
    return codings


def condition_json(row: Diagnosis) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(row.pk),
    }
    if row.clinical_status:
        resource["clinicalStatus"] = {
            "coding": [{"system": CLINICAL_SYSTEM, "code": row.clinical_status}]
        }
    resource["verificationStatus"] = {
        "coding": [{"system": VERIFICATION_SYSTEM, "code": row.verification_status}]
    }
    resource["category"] = [
        {
            "coding": [
                {
                    "system": CATEGORY_SYSTEM,
                    "code": row.category,
                    "display": CATEGORY_DISPLAY.get(row.category, row.category),
                }
            ]
        }
    ]
    severity_code = code_table().severity_codes.get(row.severity)
    if severity_code:
        resource["severity"] = {
            "coding": [
                {"system": SNOMED, "code": severity_code, "display": SEVERITY_DISPLAY[row.severity]}
            ]
        }
    resource["code"] = {"coding": _codings(row), "text": row.display}
    resource["subject"] = {"reference": f"Patient/{row.patient_id}"}
    if row.onset is not None:
        resource["onsetDateTime"] = row.onset.isoformat()
    if row.abatement is not None:
        resource["abatementDateTime"] = row.abatement.isoformat()
    resource["recordedDate"] = row.recorded_at.isoformat()
    if row.recorded_by_id is not None:
        resource["recorder"] = {"reference": f"Practitioner/{practitioner_id(row.recorded_by_id)}"}
    if row.evidence:
        resource["evidence"] = [{"detail": [{"display": row.evidence}]}]
    if row.evaluation_id is not None:
        resource["note"] = [{"text": "Recorded with the patient's eligibility evaluation."}]
    return resource


_build = rows_built(FhirCondition, condition_json)


def _rows(user: Any) -> QuerySet[Any]:
    return Diagnosis.objects.filter(patient__in=patients_visible_to(user))


def _code(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    """``code=`` ICD-10-CM (``http://hl7.org/fhir/sid/icd-10-cm|F41.1``), SNOMED CT, or a
    code alone in either."""
    condition = Q(pk__in=[])
    for part in raw.split(","):
        wanted = token(part)
        code = wanted.code.strip()
        if wanted.system in (None, ICD10_CM):
            condition |= Q(icd10__iexact=code)
        if wanted.system in (None, SNOMED):
            condition |= Q(snomed=code)
    return rows.filter(condition)


def _status_filter(field: str, system: str, codes: Sequence[str]) -> Any:
    return code_filter({(system, code): Q(**{field: code}) for code in codes})


_patient = reference_filter("patient", "Patient", uuid_or_none)

CONDITION_SOURCE = Source(
    rows=_rows,
    inserted="created_at",
    last_updated=F("created_at"),  # written once, never changed
    dates=F("recorded_at"),
    filters={
        "_id": id_filter(condition_pk),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "code": _code,
        "clinical-status": _status_filter("clinical_status", CLINICAL_SYSTEM, CLINICAL_STATUSES),
        "verification-status": _status_filter(
            "verification_status", VERIFICATION_SYSTEM, VERIFICATION_STATUSES
        ),
        "category": _status_filter("category", CATEGORY_SYSTEM, tuple(CATEGORY_DISPLAY)),
        "recorded-date": date_filter("recorded_at"),
    },
    build=_build,
    lookup=pk_lookup(condition_pk),
)
