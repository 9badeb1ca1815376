"""The transaction import (``POST /fhir/R4/``): a referral bundle built by hand, the Synthea
patients of ../shared/fixtures/synthea (skipped when absent), the MII GAD-7 bundle; all or
nothing, every bad entry named by index and path, staff who may register patients only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility.models import Diagnosis
from ketaclinic.fhir.importing.entries import mrn_system
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.tests.helpers import fixture, issues, post, response_body
from ketaclinic.patients.models import Patient
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

SYNTHEA = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "synthea"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PATIENT_URN = "urn:uuid:6f1c2d1e-6a53-4c4f-9a1f-0c1d2e3f4a5b"


def _entry(resource: dict[str, Any], full_url: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def _referral_patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Referral", "given": ["Rita", "May"]}],
        "birthDate": "1979-03-14",
        "gender": "female",
        "telecom": [{"system": "phone", "value": "555-0101"}],
        "address": [{"line": ["1 Synthetic Way"], "city": "Springfield", "postalCode": "00000"}],
    }


def _condition(subject: str, **overrides: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": ICD10, "code": "F41.1", "display": "Generalized anxiety disorder"},
                {"system": SNOMED, "code": "21897009"},
            ]
        },
        "subject": {"reference": subject},
        "onsetDateTime": "2024-06-01",
        "recordedDate": "2025-11-20T10:00:00+00:00",
    } | overrides


def _score(subject: str, code: str = "70274-6", value: int = 12) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": subject},
        "encounter": {"reference": "Encounter/at-the-other-clinic"},
        "effectiveDateTime": "2025-11-20T10:00:00+00:00",
        "valueQuantity": {"value": value, "unit": "{score}"},
    }


def _response(subject: str) -> dict[str, Any]:
    body = response_body("phq9", "x", [1, 1, 1, 1, 1, 1, 1, 1, 0])
    body["subject"] = {"reference": subject}
    return body


def _send(client: Client, bundle: dict[str, Any]) -> Any:
    return post(client, "", bundle)


def _counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Diagnosis.objects.count(),
        StoredResource.objects.count(),
        Administration.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_referral_bundle_is_imported_with_its_references_resolved(clinic: Clinic) -> None:
    bundle = _bundle(
        _entry(_condition(PATIENT_URN)),
        _entry(_referral_patient(), PATIENT_URN),
        _entry(_score(PATIENT_URN)),
        _entry(_response(PATIENT_URN)),
    )
    answer = _send(clinic.api("cleo"), bundle)
    assert answer.status_code == 200, answer.content
    assert Bundle.model_validate_json(answer.content).type == "transaction-response"
    result = answer.json()["entry"]
    assert [e["response"]["status"] for e in result] == ["201 Created"] * 4
    locations: list[str] = [e["response"]["location"] for e in result]
    assert [loc.split("/")[0] for loc in locations] == [
        "Condition",
        "Patient",
        "Observation",
        "QuestionnaireResponse",
    ]
    patient = Patient.objects.get(pk=locations[1].split("/")[1])
    assert (patient.given_name, patient.family_name, patient.sex_at_birth) == (
        "Rita May",
        "Referral",
        "female",
    )
    assert patient.address == "1 Synthetic Way, Springfield, 00000"
    client = clinic.api("ada")
    condition = client.get(f"/fhir/R4/{locations[0]}").json()
    assert condition["subject"]["reference"] == f"Patient/{patient.pk}"
    assert condition["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert condition["onsetDateTime"].startswith("2024-06-01")
    assert "recorder" not in condition
    found = client.get(f"/fhir/R4/Condition?patient={patient.pk}&code={SNOMED}|21897009").json()
    assert found["total"] == 1
    score = client.get(f"/fhir/R4/{locations[2]}").json()
    assert score["valueQuantity"]["value"] == 12
    assert "encounter" not in score  # the other clinic's encounter is not ours to point to
    assert score["category"][0]["coding"][0]["code"] == "survey"
    gad7 = client.get(f"/fhir/R4/Observation?patient={patient.pk}&code={LOINC}|70274-6").json()
    assert gad7["total"] == 1
    # The response went through the create path: scored (PHQ-9 8), its own score Observation.
    assert Administration.objects.get(patient=patient).total == 8
    phq9 = client.get(f"/fhir/R4/Observation?patient={patient.pk}&code={LOINC}|44261-6").json()
    assert phq9["total"] == 1
    created = AuditEvent.objects.filter(
        actor=clinic.users["cleo"], action="C", patient_id=patient.pk
    )
    assert {"Patient", "Condition", "Observation", "QuestionnaireResponse"} <= set(
        created.values_list("object_type", flat=True)
    )
    assert AuditEvent.objects.filter(object_type="FhirTransaction", action="E").exists()


def test_two_bad_entries_are_both_named_and_nothing_is_saved(clinic: Clinic) -> None:
    before = _counts()
    no_code = _condition(PATIENT_URN, code={"text": "anxious"})
    bundle = _bundle(
        _entry(_referral_patient(), PATIENT_URN),
        _entry(no_code),
        _entry(_score(PATIENT_URN, code="8867-4", value=70)),  # heart rate: not a score
        _entry(_condition(PATIENT_URN)),
    )
    answer = _send(clinic.api("ada"), bundle)
    assert answer.status_code == 400
    found = issues(answer)
    where = {e for i in found for e in i["expression"]}
    assert {"Bundle.entry[1].resource.code", "Bundle.entry[2].resource.code"} <= where
    assert not any("entry[0]" in w or "entry[3]" in w for w in where)
    assert any("vital signs" in i["diagnostics"] for i in found)
    assert _counts() == before


def test_entries_refused_while_writing_are_named_too_and_all_is_rolled_back(
    clinic: Clinic,
) -> None:
    before = _counts()
    incomplete = _response(PATIENT_URN)
    incomplete["item"] = incomplete["item"][:5]  # PHQ-9 with four answers missing
    bad_name = _referral_patient() | {"name": [{"family": "Ref\u202eerral", "given": ["Rita"]}]}
    other = "urn:uuid:0b8e5c3a-0000-4000-8000-000000000001"
    bundle = _bundle(
        _entry(_referral_patient(), PATIENT_URN),
        _entry(_condition(PATIENT_URN)),
        _entry(incomplete),
        _entry(bad_name, other),
        _entry(_condition(other)),
    )
    answer = _send(clinic.api("ada"), bundle)
    assert answer.status_code == 400, answer.content
    where = " ".join(e for i in issues(answer) for e in i["expression"])
    assert "Bundle.entry[2].resource" in where
    assert "Bundle.entry[3].resource.name.family" in where
    assert "entry[0]" not in where and "entry[1]" not in where
    assert _counts() == before


def test_references_to_patients_we_have_and_conditional_ones(clinic: Clinic) -> None:
    by_mrn = f"Patient?identifier={mrn_system()}|{clinic.pat.mrn}"
    bundle = _bundle(
        _entry(_condition(f"Patient/{clinic.pat.pk}")),
        _entry(_condition(by_mrn)),
        {
            "resource": _referral_patient(),
            "request": {
                "method": "POST",
                "url": "Patient",
                "ifNoneExist": f"identifier={mrn_system()}|{clinic.quinn.mrn}",
            },
            "fullUrl": PATIENT_URN,
        },
        _entry(_condition(PATIENT_URN)),
    )
    answer = _send(clinic.api("ada"), bundle)
    assert answer.status_code == 200, answer.content
    entries = answer.json()["entry"]
    assert entries[2]["response"] == entries[2]["response"] | {
        "status": "200 OK",
        "location": f"Patient/{clinic.quinn.pk}",
    }
    assert Diagnosis.objects.filter(patient=clinic.pat, source="import").count() == 2
    assert Diagnosis.objects.filter(patient=clinic.quinn, source="import").count() == 1
    unknown = _bundle(
        _entry(_condition("urn:uuid:00000000-0000-4000-8000-00000000dead")),
        _entry(_condition("Patient/00000000-0000-4000-8000-00000000beef")),
        _entry(_condition(f"Patient?identifier={mrn_system()}|KC0000000")),
    )
    refused = _send(clinic.api("ada"), unknown)
    assert refused.status_code == 400
    where = [e for i in issues(refused) for e in i["expression"]]
    assert where == [f"Bundle.entry[{n}].resource.subject.reference" for n in range(3)]


def test_only_staff_who_register_patients_import(clinic: Clinic) -> None:
    bundle = _bundle(_entry(_referral_patient()))
    assert _send(Client(), bundle).status_code == 401
    for who in ("ben", "pat"):
        refused = _send(clinic.api(who), bundle)
        assert refused.status_code == 403, who
    assert _send(clinic.api("dana"), bundle).status_code == 200
    assert clinic.api("ada").get("/fhir/R4/").status_code == 405


def test_not_a_transaction_or_other_types_are_refused_by_entry(clinic: Clinic) -> None:
    batch = _bundle(_entry(_referral_patient())) | {"type": "batch"}
    assert issues(_send(clinic.api("ada"), batch))[0]["expression"] == ["Bundle.type"]
    encounter = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}
    put = _entry(_referral_patient()) | {"request": {"method": "PUT", "url": "Patient/x"}}
    answer = _send(clinic.api("ada"), _bundle(_entry(encounter), put))
    where = [e for i in issues(answer) for e in i["expression"]]
    assert where == ["Bundle.entry[0].resource.resourceType", "Bundle.entry[1].request.method"]


def test_the_mii_gad7_bundle_is_refused_as_sent_and_imported_as_a_create(clinic: Clinic) -> None:
    mii = fixture("bundles/gad7-mii-bundle.json")
    as_sent = _send(clinic.api("ada"), mii)
    assert as_sent.status_code == 400
    named = {e.split(".")[1] for i in issues(as_sent) for e in i["expression"]}
    assert named == {f"entry[{n}]" for n in range(4)}  # PUT entries, and a Questionnaire
    imported = post(clinic.api("dana"), "Questionnaire", fixture("questionnaires/gad7-mii.json"))
    assert imported.status_code == 201, imported.content
    entries = []
    for entry in mii["entry"][1:]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource = resource | {"birthDate": "1970-01-01"}
        if resource["resourceType"] == "QuestionnaireResponse":
            resource = resource | {"questionnaire": imported.json()["url"]}
        entries.append(_entry(resource, entry["fullUrl"]))
    answer = _send(clinic.api("ada"), _bundle(*entries))
    assert answer.status_code == 200, answer.content
    locations = [e["response"]["location"] for e in answer.json()["entry"]]
    patient_id = locations[2].split("/")[1]
    assert Administration.objects.get(patient_id=patient_id).total == 13
    stored = StoredResource.objects.get(resource_id=locations[1].split("/")[1])
    assert json.loads(stored.json_text)["valueQuantity"]["value"] == 13


def _synthea(name: str) -> list[dict[str, Any]]:
    path = SYNTHEA / f"{name}.000.ndjson"
    if not path.is_file():
        pytest.skip(f"Synthea fixture {path.name} is absent (../shared/fixtures is not here)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_synthea_patients_import_with_their_conditions(clinic: Clinic) -> None:
    """The 13 Synthea patients and their 555 Conditions (SNOMED CT) as one transaction, the
    references turned into urn:uuid full URLs as Synthea's own transaction bundles have them."""
    patients = _synthea("Patient")
    conditions = _synthea("Condition")
    entries = [_entry(p, f"urn:uuid:{p['id']}") for p in patients]
    for condition in conditions:
        subject = condition["subject"]["reference"].removeprefix("Patient/")
        entries.append(_entry(condition | {"subject": {"reference": f"urn:uuid:{subject}"}}))
    before = Patient.objects.count()
    answer = _send(clinic.api("ada"), _bundle(*entries))
    assert answer.status_code == 200, answer.content[:2000]
    result = answer.json()["entry"]
    assert len(result) == len(patients) + len(conditions)
    assert Patient.objects.count() == before + len(patients)
    assert Diagnosis.objects.filter(source="import").count() == len(conditions)
    panic = next(c for c in conditions if "panic" in c["code"]["text"].lower())
    owner = next(
        r["response"]["location"]
        for p, r in zip(patients, result, strict=False)
        if p["id"] == panic["subject"]["reference"].removeprefix("Patient/")
    )
    code = panic["code"]["coding"][0]["code"]
    found = clinic.api("ada").get(
        f"/fhir/R4/Condition?subject={owner}&code={SNOMED}|{code}&_count=50"
    )
    assert found.status_code == 200 and found.json()["total"] >= 1
    resolved = [c for c in conditions if c.get("abatementDateTime")]
    assert Diagnosis.objects.filter(source="import", abatement__isnull=False).count() == len(
        resolved
    )
