"""POST QuestionnaireResponse: validated, scored by the scales service, stored; the score read
back as an Observation, flags as Flag; every invalid response refused with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.models import StoredResource
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic

from .helpers import issues, post, response_body, valid

GAD7_TOTAL = "http://loinc.org|70274-6"
PHQ9_TOTAL = "http://loinc.org|44261-6"


def _observations(client: Client, patient_id: Any, code: str) -> dict[str, Any]:
    response = client.get(f"/fhir/R4/Observation?patient={patient_id}&code={code}")
    assert response.status_code == 200, response.content
    bundle = valid(Bundle, response.content)
    for entry in bundle.get("entry", []):
        Observation.model_validate(entry["resource"])
    return bundle


@pytest.mark.parametrize("integer", [False, True])
def test_gad7_response_scores_and_reads_back_as_observation(clinic: Clinic, integer: bool) -> None:
    body = response_body("gad7", clinic.pat.pk, [2, 3, 2, 1, 2, 1, 2], integer=integer)
    created = post(clinic.api("ben"), "QuestionnaireResponse", body)
    assert created.status_code == 201, created.content
    stored = valid(QuestionnaireResponse, created.content)
    assert created["Location"] == f"/fhir/R4/QuestionnaireResponse/{stored['id']}"
    administration = Administration.objects.get(patient=clinic.pat)
    assert (administration.total, administration.band, administration.mode) == (
        13,
        "moderate",
        "staff_entry",
    )

    bundle = _observations(clinic.api("ada"), clinic.pat.pk, GAD7_TOTAL)
    assert bundle["total"] == 1
    observation = bundle["entry"][0]["resource"]
    assert observation["valueInteger"] == 13
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert observation["interpretation"][0]["text"] == "moderate"
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{stored['id']}"}]
    assert observation["subject"] == {"reference": f"Patient/{clinic.pat.pk}"}
    assert _observations(clinic.api("ada"), clinic.pat.pk, PHQ9_TOTAL)["total"] == 0

    read = clinic.api("pat").get(f"/fhir/R4/QuestionnaireResponse/{stored['id']}")
    assert valid(QuestionnaireResponse, read.content)["id"] == stored["id"]
    other = clinic.api("quinn").get(f"/fhir/R4/QuestionnaireResponse/{stored['id']}")
    assert other.status_code == 404
    one = clinic.api("pat").get(f"/fhir/R4/Observation/{observation['id']}")
    assert valid(Observation, one.content)["valueInteger"] == 13


def test_phq9_item_9_opens_a_flag_readable_as_fhir_flag(clinic: Clinic) -> None:
    body = response_body("phq9", clinic.pat.pk, [1, 1, 1, 1, 1, 1, 1, 1, 2], integer=True)
    body["questionnaire"] += "|1"  # a versioned canonical names the same Questionnaire
    assert post(clinic.api("ada"), "QuestionnaireResponse", body).status_code == 201
    bundle = _observations(clinic.api("ben"), clinic.pat.pk, PHQ9_TOTAL)
    assert bundle["entry"][0]["resource"]["valueInteger"] == 10

    flags = clinic.api("ada").get(f"/fhir/R4/Flag?patient={clinic.pat.pk}&status=active")
    assert flags.status_code == 200
    found = valid(Bundle, flags.content)
    resources = [entry["resource"] for entry in found["entry"]]
    for resource in resources:
        Flag.model_validate(resource)
    assert [r["code"]["coding"][0]["code"] for r in resources] == ["suicide_risk"]
    assert resources[0]["status"] == "active"
    assert resources[0]["subject"] == {"reference": f"Patient/{clinic.pat.pk}"}
    inactive = clinic.api("ada").get(f"/fhir/R4/Flag?patient={clinic.pat.pk}&status=inactive")
    assert valid(Bundle, inactive.content)["total"] == 0
    assert AuditEvent.objects.filter(action="R", object_type="SafetyFlag").exists()


def test_reads_are_audited_and_patients_see_only_their_own(clinic: Clinic) -> None:
    body = response_body("gad7", clinic.pat.pk, [0] * 7)
    assert post(clinic.api("ben"), "QuestionnaireResponse", body).status_code == 201
    observation = StoredResource.objects.get(resource_type="Observation")
    own = _observations(clinic.api("pat"), clinic.pat.pk, GAD7_TOTAL)
    assert own["total"] == 1
    assert AuditEvent.objects.filter(
        action="R", object_type="Observation", object_id=observation.resource_id,
        actor=clinic.users["pat"],
    ).exists()  # fmt: skip
    other = clinic.api("quinn").get(f"/fhir/R4/Observation?patient={clinic.pat.pk}")
    assert other.status_code == 404
    assert issues(other)[0]["code"] == "not-found"
    assert clinic.api("quinn").get(f"/fhir/R4/Flag?patient={clinic.pat.pk}").status_code == 404


def test_observation_search_needs_a_patient(clinic: Clinic) -> None:
    response = clinic.api("ada").get(f"/fhir/R4/Observation?code={GAD7_TOTAL}")
    assert response.status_code == 400
    assert issues(response)[0]["expression"] == ["patient"]


def _refused(client: Client, body: Any, clinic: Clinic) -> list[dict[str, Any]]:
    rows = StoredResource.objects.count(), Administration.objects.count()
    creates = AuditEvent.objects.filter(action="C").count()
    response = post(client, "QuestionnaireResponse", body)
    assert response.status_code in (400, 422), response.content
    OperationOutcome.model_validate_json(response.content)
    assert (StoredResource.objects.count(), Administration.objects.count()) == rows
    assert AuditEvent.objects.filter(action="C").count() == creates
    return issues(response)


def test_invalid_answers_are_all_listed_and_nothing_is_stored(clinic: Clinic) -> None:
    body = response_body("gad7", clinic.pat.pk, [0] * 7)
    body["item"] = body["item"][:5]  # items 6 and 7 missing
    body["item"][0]["answer"] = [
        {"valueCoding": {"system": "http://loinc.org", "code": "LA6572-7"}}
    ]
    body["item"][1]["answer"] = [{"valueInteger": 4}]
    body["item"].append({"linkId": "99", "answer": [{"valueInteger": 1}]})
    found = _refused(clinic.api("ben"), body, clinic)
    by_where = {(i["expression"][0], i["code"]) for i in found}
    assert by_where == {
        ("QuestionnaireResponse.item.where(linkId='1')", "value"),
        ("QuestionnaireResponse.item.where(linkId='2')", "value"),
        ("QuestionnaireResponse.item.where(linkId='99')", "invalid"),
        ("QuestionnaireResponse.item.where(linkId='6')", "required"),
        ("QuestionnaireResponse.item.where(linkId='7')", "required"),
    }
    assert any("LA6572-7" in i["diagnostics"] for i in found)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"subject": {"reference": "Group/1"}}, "subject.reference"),
        ({"subject": {"reference": "Patient/00000000-0000-0000-0000-000000000000"}},
         "subject.reference"),
        ({"status": "in-progress"}, "status"),
        ({"questionnaire": "https://example.org/Questionnaire/unknown"}, "questionnaire"),
        ({"authored": "2099-01-01T00:00:00+00:00"}, "authored"),
    ],
)  # fmt: skip
def test_wrong_subject_status_questionnaire_or_time_is_refused(
    clinic: Clinic, change: dict[str, Any], where: str
) -> None:
    body = response_body("gad7", clinic.pat.pk, [1] * 7) | change
    found = _refused(clinic.api("ben"), body, clinic)
    assert [i["expression"] for i in found] == [[where]]


def test_a_patient_the_caller_may_not_see_is_refused(clinic: Clinic) -> None:
    body = response_body("gad7", clinic.quinn.pk, [1] * 7)
    found = _refused(clinic.api("pat"), body, clinic)
    assert found[0]["code"] == "not-found"


def test_malformed_json_and_wrong_resource_type(clinic: Clinic) -> None:
    client = clinic.api("ben")
    bad = client.post("/fhir/R4/QuestionnaireResponse", data="{", content_type="application/json")
    assert bad.status_code == 400
    wrong = post(client, "QuestionnaireResponse", {"resourceType": "Patient"})
    assert wrong.status_code == 400
    structure = post(
        client,
        "QuestionnaireResponse",
        {"resourceType": "QuestionnaireResponse", "status": 7, "item": "x"},
    )
    assert structure.status_code == 400
    assert len(issues(structure)) >= 1
    text = client.post("/fhir/R4/QuestionnaireResponse", data="x", content_type="text/plain")
    assert text.status_code == 415


def test_questionnaire_response_accepts_application_json(clinic: Clinic) -> None:
    body = response_body("gad7", clinic.pat.pk, [0] * 7)
    response = post(clinic.api("ben"), "QuestionnaireResponse", body, "application/json")
    assert response.status_code == 201


def test_patient_records_own_response(clinic: Clinic) -> None:
    body = response_body("gad7", clinic.pat.pk, [1] * 7)
    response = post(clinic.api("pat"), "QuestionnaireResponse", body)
    assert response.status_code == 201, response.content
    assert Administration.objects.get().mode == "patient_self"


def test_subscale_totals_are_observation_components(clinic: Clinic) -> None:
    weights = [1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]  # HAM-A: 14 items, 0-4
    body = response_body("hama", clinic.pat.pk, weights)
    assert post(clinic.api("ada"), "QuestionnaireResponse", body).status_code == 201
    administration = Administration.objects.get(patient=clinic.pat)
    code = "https://ketaclinic.org/fhir/CodeSystem/scale-score|hama"
    bundle = _observations(clinic.api("ada"), clinic.pat.pk, code)
    observation = bundle["entry"][0]["resource"]
    assert observation["valueInteger"] == sum(weights) == administration.total
    components = {
        c["code"]["coding"][0]["code"]: (c["code"]["text"], c["valueInteger"])
        for c in observation["component"]
    }
    assert components == {
        "hama-psychic": ("psychic", administration.subscales["psychic"]),
        "hama-somatic": ("somatic", administration.subscales["somatic"]),
    }
    assert components["hama-psychic"][1] + components["hama-somatic"][1] == sum(weights)
