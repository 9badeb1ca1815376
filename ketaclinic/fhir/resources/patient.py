"""A patient as an R4 Patient: MRN identifier, name, birth date, gender, contact details.

Searches by name or birth date are not offered: they would put patient data in URLs (the
clinic's rule); clients find a patient by id or page through all of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, QuerySet
from fhir.resources.R4B.patient import Patient as FhirPatient

from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import id_filter, pk_lookup, uuid_or_none, validated
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.patients.models import Patient, SexAtBirth
from ketaclinic.patients.selectors import patients_visible_to

# Administrative gender (http://hl7.org/fhir/R4/valueset-administrative-gender.html) from
# the sex recorded at birth; intersex has no code of its own there, so it is "other".
_GENDER = {
    SexAtBirth.FEMALE: "female",
    SexAtBirth.MALE: "male",
    SexAtBirth.INTERSEX: "other",
    SexAtBirth.UNKNOWN: "unknown",
}


def patient_json(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "system": f"{canonical_base()}/sid/mrn",
                "value": patient.mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": _GENDER.get(SexAtBirth(patient.sex_at_birth), "unknown"),
        "birthDate": patient.birth_date.isoformat(),
    }
    telecom = [
        {"system": system, "value": value, "use": "home" if system == "email" else "mobile"}
        for system, value in (("email", patient.email), ("phone", patient.phone))
        if value
    ]
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    return resource


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(str(p.pk), validated(FhirPatient, patient_json(p)), p.pk, getattr(p, LAST_UPDATED))
        for p in rows
    ]


def _rows(user: Any) -> QuerySet[Any]:
    return patients_visible_to(user)


PATIENT_SOURCE = Source(
    rows=_rows,
    inserted="created_at",
    last_updated=F("updated_at"),
    dates=None,
    filters={
        "_id": id_filter(uuid_or_none),
        "_lastUpdated": date_filter(LAST_UPDATED),
    },
    build=_build,
    lookup=pk_lookup(uuid_or_none),
)
