"""A SMART program's transaction Bundle (``POST /fhir/R4/``): allowed with create scopes
(``system/*.cu``, or each entry type's), every entry checked against them, all or nothing;
real signed assertions and tokens (``keys.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.eligibility.models import Diagnosis
from ketaclinic.fhir.smart.models import SmartClient
from ketaclinic.fhir.smart.tests.keys import access_token, program
from ketaclinic.fhir.tests.helpers import post
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

URN = "urn:uuid:1b7c2f4e-2d7a-4a9e-8c11-3f0a5b6c7d8e"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def _bundle() -> dict[str, Any]:
    patient = {
        "resourceType": "Patient",
        "name": [{"family": "Scoped", "given": ["Sam"]}],
        "birthDate": "1980-02-02",
        "gender": "male",
    }
    condition = {
        "resourceType": "Condition",
        "code": {"coding": [{"system": ICD10, "code": "F41.1"}]},
        "subject": {"reference": URN},
        "recordedDate": "2025-11-20T10:00:00+00:00",
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": URN, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
            {"resource": condition, "request": {"method": "POST", "url": "Condition"}},
        ],
    }


def _outcome(answer: Any, status: int) -> list[Any]:
    assert answer.status_code == status, answer.content
    return list(OperationOutcome.model_validate_json(answer.content).issue)


def test_a_program_with_create_scopes_imports_a_transaction(clinic: Clinic) -> None:
    http = program(access_token(clinic, "system/*.cu"))
    answer = post(http, "", _bundle())
    assert answer.status_code == 200, answer.content
    response = Bundle.model_validate_json(answer.content)
    assert [e.response.status for e in response.entry or [] if e.response] == ["201 Created"] * 2
    patient = Patient.objects.get(family_name="Scoped")
    assert Diagnosis.objects.filter(patient=patient, icd10="F41.1").count() == 1
    account = SmartClient.objects.get().account
    created = AuditEvent.objects.filter(action=Action.CREATE, object_type="Condition")
    assert created.get().actor_id == account.pk  # the program is the audit trail's actor


def test_per_type_create_scopes_are_enough(clinic: Clinic) -> None:
    http = program(access_token(clinic, "system/Patient.c system/Condition.c"))
    assert post(http, "", _bundle()).status_code == 200


def test_an_entry_beyond_the_scopes_refuses_the_whole_bundle(clinic: Clinic) -> None:
    http = program(access_token(clinic, "system/Patient.c system/Observation.c"))
    issues = _outcome(post(http, "", _bundle()), 403)
    assert [i.expression for i in issues] == [["Bundle.entry[1].resource"]]
    assert "Condition" in str(issues[0].diagnostics)
    assert not Patient.objects.filter(family_name="Scoped").exists()  # all or nothing


def test_a_constrained_create_scope_must_hold_on_the_entry(clinic: Clinic) -> None:
    category = "http://terminology.hl7.org/CodeSystem/condition-category"
    scopes = f"system/Patient.c system/Condition.c?category={category}|encounter-diagnosis"
    http = program(access_token(clinic, scopes))
    issues = _outcome(post(http, "", _bundle()), 403)  # the Condition has no such category
    assert "with this content" in str(issues[0].diagnostics)
    bundle = _bundle()
    bundle["entry"][1]["resource"]["category"] = [
        {"coding": [{"system": category, "code": "encounter-diagnosis"}]}
    ]
    assert post(http, "", bundle).status_code == 200


def test_read_scopes_and_one_patient_programs_do_not_import(clinic: Clinic) -> None:
    reader = program(access_token(clinic, "system/*.rs"))
    _outcome(post(reader, "", _bundle()), 403)
    one = program(access_token(clinic, "patient/*.cruds", patient=clinic.pat))
    _outcome(post(one, "", _bundle()), 403)
    assert not Patient.objects.filter(family_name="Scoped").exists()
