"""AllergyIntolerance entries of a transaction Bundle: created as allergy rows (source
import), "no known allergies" (SNOMED CT 716186003), conditional create, bad entries named,
all or nothing; served back as AllergyIntolerance, validated by fhir.resources."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility.models import Allergy, RecordSource
from ketaclinic.fhir.tests.helpers import issues, post
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

URN = "urn:uuid:0e8b6a5c-3c2d-4f1e-9a0b-7c6d5e4f3a2b"
SNOMED = "http://snomed.info/sct"
NKA = "716186003"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def _allergy(patient: str, **overrides: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "code": {"coding": [{"system": SNOMED, "code": "91936005"}], "text": "Penicillin"},
        "patient": {"reference": patient},
        "recordedDate": "2025-11-20T10:00:00+00:00",
    } | overrides


def _no_known(patient: str) -> dict[str, Any]:
    coding = {"system": SNOMED, "code": NKA, "display": "No known allergy"}
    return _allergy(patient, code={"coding": [coding]})


def _entry(resource: dict[str, Any], full_url: str | None = None, **request: str) -> Any:
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"], **request},
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"family": "Allergic", "given": ["Alma"]}],
        "birthDate": "1985-05-05",
    }


def _send(clinic: Clinic, *entries: Any, who: str = "cleo") -> Any:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}
    return post(clinic.api(who), "", bundle)


def _statuses(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 200, answer.content
    Bundle.model_validate_json(answer.content)
    return [
        (e["response"]["status"], e["response"]["location"].split("/")[0])
        for e in answer.json()["entry"]
    ]


def test_allergies_are_imported_beside_a_new_patient(clinic: Clinic) -> None:
    answer = _send(clinic, _entry(_patient(), URN), _entry(_allergy(URN)))
    assert _statuses(answer) == [("201 Created", "Patient"), ("201 Created", "AllergyIntolerance")]
    patient = Patient.objects.get(family_name="Allergic")
    row = Allergy.objects.get(patient=patient)
    assert (row.substance, row.no_known, row.source, row.evaluation) == (
        "Penicillin",
        False,
        RecordSource.IMPORT,
        None,
    )
    served = clinic.api("ada").get(f"/fhir/R4/AllergyIntolerance?patient={patient.pk}")
    resources = [e["resource"] for e in served.json()["entry"] if e["search"]["mode"] == "match"]
    assert len(resources) == 1
    AllergyIntolerance.model_validate(resources[0])
    assert resources[0]["code"]["text"] == "Penicillin"
    assert resources[0]["recordedDate"].startswith("2025-11-20")
    assert AuditEvent.objects.filter(
        action="C", object_type="AllergyIntolerance", patient_id=patient.pk
    ).exists()


def test_no_known_allergy_is_kept_as_such(clinic: Clinic) -> None:
    answer = _send(clinic, _entry(_no_known(f"Patient/{clinic.pat.pk}")))
    assert _statuses(answer) == [("201 Created", "AllergyIntolerance")]
    row = Allergy.objects.get(patient=clinic.pat)
    assert row.no_known and row.substance == ""
    found = clinic.api("ada").get(
        f"/fhir/R4/AllergyIntolerance?patient={clinic.pat.pk}&code={SNOMED}|{NKA}"
    )
    assert found.json()["total"] == 1


def test_a_conditional_create_finds_the_allergy_recorded_already(clinic: Clinic) -> None:
    patient = f"Patient/{clinic.pat.pk}"
    condition = f"patient={patient}&code={SNOMED}|91936005"
    first = _send(clinic, _entry(_allergy(patient), ifNoneExist=condition))
    assert _statuses(first) == [("201 Created", "AllergyIntolerance")]
    again = _send(clinic, _entry(_allergy(patient), ifNoneExist=condition))
    assert _statuses(again) == [("200 OK", "AllergyIntolerance")]
    assert (
        again.json()["entry"][0]["response"]["location"]
        == first.json()["entry"][0]["response"]["location"]
    )
    assert Allergy.objects.filter(patient=clinic.pat).count() == 1
    # no known allergies: matched only by the no-known rows
    nka = f"patient={patient}&code={SNOMED}|{NKA}"
    assert _statuses(_send(clinic, _entry(_no_known(patient), ifNoneExist=nka)))[0][0] == (
        "201 Created"
    )
    assert _statuses(_send(clinic, _entry(_no_known(patient), ifNoneExist=nka)))[0][0] == "200 OK"
    assert Allergy.objects.filter(patient=clinic.pat).count() == 2


def test_bad_allergy_entries_are_named_and_nothing_is_saved(clinic: Clinic) -> None:
    patient = f"Patient/{clinic.pat.pk}"
    refuted = _allergy(
        patient, verificationStatus={"coding": [{"system": VERIFICATION, "code": "refuted"}]}
    )
    answer = _send(
        clinic,
        _entry(_allergy(patient)),  # fine on its own
        _entry(_allergy(patient, code={"coding": [{"system": SNOMED, "code": "1"}]})),
        _entry(refuted),
        _entry(_allergy(patient), ifNoneExist="code=x"),  # a condition without its patient
        _entry(_allergy(f"Patient/{clinic.quinn.pk}"), ifNoneExist=f"patient={patient}&code=x"),
    )
    assert answer.status_code == 400, answer.content
    where = {e for i in issues(answer) for e in i["expression"]}
    assert {
        "Bundle.entry[1].resource.code",
        "Bundle.entry[2].resource.verificationStatus",
        "Bundle.entry[3].request.ifNoneExist",
        "Bundle.entry[4].request.ifNoneExist",
    } <= where
    assert not any("entry[0]" in w for w in where)
    assert not Allergy.objects.exists()
