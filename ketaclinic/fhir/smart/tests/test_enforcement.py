"""Scopes enforced on every FHIR endpoint and every Bundle entry; a one-patient program sees
one patient; a person's API token works as before; the program is the audit trail's actor."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.fhir.bundle import searchset
from ketaclinic.fhir.smart.access import grant_bound
from ketaclinic.fhir.smart.models import SmartClient
from ketaclinic.fhir.smart.rules.scopes import Grant, scope_parse
from ketaclinic.fhir.smart.tests.keys import access_token, program
from ketaclinic.fhir.tests.helpers import post, response_body
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _scores(clinic: Clinic) -> None:
    """A GAD-7 for Pat and one for Quinn (each a QuestionnaireResponse and a score)."""
    ben = clinic.api("ben")
    for patient in (clinic.pat, clinic.quinn):
        answer = post(ben, "QuestionnaireResponse", response_body("gad7", patient.pk, [1] * 7))
        assert answer.status_code == 201, answer.content


def _forbidden(answer: Any) -> None:
    assert answer.status_code == 403, answer.content
    outcome = OperationOutcome.model_validate_json(answer.content)
    assert outcome.issue[0].code == "forbidden"


def _bundle(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.content
    Bundle.model_validate_json(answer.content)
    body: dict[str, Any] = answer.json()
    return body


def _matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_an_observation_reader_reads_observations_and_nothing_else(clinic: Clinic) -> None:
    _scores(clinic)
    http = program(access_token(clinic, "system/Observation.rs"))
    found = _bundle(http.get(f"/fhir/R4/Observation?patient={clinic.pat.pk}"))
    assert found["total"] == 1
    observation = _matches(found)[0]
    assert _bundle(http.get(f"/fhir/R4/Observation?patient={clinic.quinn.pk}"))["total"] == 1
    assert http.get(f"/fhir/R4/Observation/{observation['id']}").status_code == 200
    _forbidden(http.get(f"/fhir/R4/Patient/{clinic.pat.pk}"))
    _forbidden(http.get("/fhir/R4/Patient"))
    _forbidden(http.get(f"/fhir/R4/QuestionnaireResponse?patient={clinic.pat.pk}"))
    _forbidden(http.get(f"/fhir/R4/Encounter?patient={clinic.pat.pk}"))
    _forbidden(http.get("/fhir/R4/Questionnaire"))
    # and it writes nothing
    body = response_body("gad7", clinic.pat.pk, [2] * 7)
    _forbidden(post(http, "QuestionnaireResponse", body))
    _forbidden(post(http, "Observation", observation))
    _forbidden(http.put(f"/fhir/R4/Observation/{observation['id']}", json.dumps(observation)))
    _forbidden(http.delete(f"/fhir/R4/Observation/{observation['id']}"))
    assert http.get("/fhir/R4/metadata").status_code == 200  # no patient data: open


def test_the_program_is_the_audit_trails_actor(clinic: Clinic) -> None:
    _scores(clinic)
    token = access_token(clinic, "system/Observation.rs")
    account = SmartClient.objects.get().account
    before = AuditEvent.objects.count()
    _bundle(program(token).get(f"/fhir/R4/Observation?patient={clinic.pat.pk}"))
    (read,) = AuditEvent.objects.order_by("seq")[before:]
    assert (read.actor_id, read.actor_role, read.action) == (account.pk, "client", Action.READ)
    assert (read.object_type, read.patient_id) == ("Observation", clinic.pat.pk)
    assert audit_verify() is None
    assert not account.is_active and not account.has_usable_password()  # never signs in


def test_a_program_allowed_to_record_scales_creates_a_response(clinic: Clinic) -> None:
    http = program(access_token(clinic, "system/QuestionnaireResponse.cr system/Questionnaire.r"))
    answer = post(http, "QuestionnaireResponse", response_body("gad7", clinic.pat.pk, [1] * 7))
    assert answer.status_code == 201, answer.content
    created = AuditEvent.objects.filter(action=Action.CREATE, object_type="QuestionnaireResponse")
    assert created.get().actor_role == "client"
    assert http.get(answer["Location"]).status_code == 200
    _forbidden(http.get(f"/fhir/R4/Observation?patient={clinic.pat.pk}"))


def test_a_one_patient_program_sees_that_patient_only(clinic: Clinic) -> None:
    _scores(clinic)
    http = program(access_token(clinic, "patient/*.rs", patient=clinic.pat))
    patients = _bundle(http.get("/fhir/R4/Patient"))
    assert [p["id"] for p in _matches(patients)] == [str(clinic.pat.pk)]
    assert http.get(f"/fhir/R4/Patient/{clinic.pat.pk}").status_code == 200
    for url in (
        f"/fhir/R4/Patient/{clinic.quinn.pk}",
        f"/fhir/R4/Observation?patient={clinic.quinn.pk}",
        f"/fhir/R4/QuestionnaireResponse?patient={clinic.quinn.pk}",
    ):
        answer = http.get(url)
        assert answer.status_code == 404, url  # as for an id that does not exist
    mine = _bundle(http.get(f"/fhir/R4/Observation?patient={clinic.pat.pk}"))
    assert mine["total"] == 1
    responses = _bundle(http.get("/fhir/R4/QuestionnaireResponse"))
    assert {r["subject"]["reference"] for r in _matches(responses)} == {f"Patient/{clinic.pat.pk}"}
    quinns = _matches(
        _bundle(clinic.api("ada").get(f"/fhir/R4/Observation?patient={clinic.quinn.pk}"))
    )
    assert http.get(f"/fhir/R4/Observation/{quinns[0]['id']}").status_code == 404


def test_v1_scopes_are_enforced_as_their_v2_mapping(clinic: Clinic) -> None:
    _scores(clinic)
    http = program(access_token(clinic, "patient/Observation.read", patient=clinic.quinn))
    assert _bundle(http.get(f"/fhir/R4/Observation?patient={clinic.quinn.pk}"))["total"] == 1
    _forbidden(http.get(f"/fhir/R4/Patient/{clinic.quinn.pk}"))
    body = response_body("gad7", clinic.quinn.pk, [1] * 7)
    _forbidden(post(http, "QuestionnaireResponse", body))


def test_a_category_constraint_filters_searches_and_refuses_other_reads(clinic: Clinic) -> None:
    from ketaclinic.infusions.tests.chart_driver import chart_for

    _scores(clinic)
    chart = chart_for(clinic)
    chart.check_in()
    assert chart.vitals().status_code in (200, 201)
    http = program(access_token(clinic, f"system/Observation.rs?category={CATEGORY}|vital-signs"))
    url = f"/fhir/R4/Observation?patient={clinic.pat.pk}&_count=200"
    vitals = _bundle(http.get(url))
    assert vitals["total"] == 4 == len(_matches(vitals))  # one reading of four vital signs
    assert {o["category"][0]["coding"][0]["code"] for o in _matches(vitals)} == {"vital-signs"}
    assert "category=" in vitals["link"][0]["url"]  # the filter applied is echoed
    assert _bundle(http.get(f"{url}&category=survey"))["total"] == 0
    everything = _matches(_bundle(clinic.api("ada").get(url)))
    score = next(o for o in everything if o["category"][0]["coding"][0]["code"] == "survey")
    vital = next(o for o in everything if o["category"][0]["coding"][0]["code"] == "vital-signs")
    assert http.get(f"/fhir/R4/Observation/{vital['id']}").status_code == 200
    _forbidden(http.get(f"/fhir/R4/Observation/{score['id']}"))


def test_every_bundle_entry_is_checked_against_the_grant() -> None:
    """The searchset writer drops entries the token may not read: what _include and
    $everything put in a Bundle is covered without their code knowing of scopes."""
    base = "http://testserver/fhir/R4"
    survey = {
        "resourceType": "Observation",
        "id": "o1",
        "category": [{"coding": [{"system": CATEGORY, "code": "survey"}]}],
    }
    vital = {
        "resourceType": "Observation",
        "id": "o2",
        "category": [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}],
    }
    entries = [
        (f"{base}/Patient/p1", json.dumps({"resourceType": "Patient", "id": "p1"})),
        (f"{base}/Observation/o1", json.dumps(survey)),
        (f"{base}/Observation/o2", json.dumps(vital)),
    ]

    def shown(grant: Grant | None) -> list[str]:
        with grant_bound(grant):
            bundle = json.loads(searchset(f"{base}/Patient", entries))
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    assert shown(None) == ["p1", "o1", "o2"]  # a person's token: their role rules decided
    assert shown(Grant((scope_parse("system/Observation.rs"),))) == ["o1", "o2"]
    assert shown(Grant((scope_parse("system/Patient.r"),))) == ["p1"]
    assert shown(
        Grant((scope_parse(f"system/Observation.rs?category={CATEGORY}|vital-signs"),))
    ) == ["o2"]
    assert shown(Grant((scope_parse("system/Observation.c"),))) == []
    # an entry named by urn:uuid: its resourceType decides
    entries.append(("urn:uuid:5d1c", json.dumps({"resourceType": "Patient", "id": "p2"})))
    assert shown(Grant((scope_parse("system/Patient.r"),))) == ["p1", "p2"]
    assert shown(Grant((scope_parse("system/Observation.rs"),))) == ["o1", "o2"]


def test_a_persons_api_token_works_as_before(clinic: Clinic) -> None:
    _scores(clinic)
    ada = clinic.api("ada")
    assert ada.get(f"/fhir/R4/Patient/{clinic.quinn.pk}").status_code == 200
    assert _bundle(ada.get(f"/fhir/R4/Observation?patient={clinic.quinn.pk}"))["total"] == 1
    pat = clinic.api("pat")
    assert pat.get(f"/fhir/R4/Patient/{clinic.quinn.pk}").status_code == 404
    assert Client(HTTP_AUTHORIZATION="Bearer kcs_forged").get("/fhir/R4/Patient").status_code == 401


def test_bulk_export_needs_scopes_covering_every_type(clinic: Clinic) -> None:
    """The export endpoints (issue 16 item 3) are checked by path before they run: each
    ``_type`` needs search; a group, Group read."""
    from django.test import RequestFactory

    from ketaclinic.fhir.smart.check import request_refusal

    grant = Grant((scope_parse("system/Observation.rs"), scope_parse("system/Patient.rs")))
    factory = RequestFactory()

    def refused(url: str, g: Grant = grant) -> bool:
        return request_refusal(g, factory.get(url)) is not None

    assert not refused("/fhir/R4/$export?_type=Observation,Patient")
    assert refused("/fhir/R4/$export?_type=Observation,Encounter")
    # no _type: the export holds the types the scopes cover (bulk/access.py), not refused here
    assert not refused("/fhir/R4/$export")
    assert refused("/fhir/R4/$export", Grant((scope_parse("system/Observation.c"),)))
    assert not refused("/fhir/R4/$export", Grant((scope_parse("system/*.rs"),)))
    assert refused("/fhir/R4/Group/g1/$export?_type=Observation")
    assert refused("/fhir/R4/bulk/status/1")  # a path not mapped yet: closed to programs


def test_a_programs_account_holds_nothing_without_its_token(clinic: Clinic) -> None:
    """An API token minted for a program's account does not work (the account is inactive),
    and the role table grants the client role nothing: only the SMART token's grant counts."""
    from ketaclinic.accounts.access import user_can
    from ketaclinic.accounts.roles import PERMISSIONS
    from ketaclinic.accounts.services import apitoken_create

    access_token(clinic, "system/*.rs")
    account = SmartClient.objects.get().account
    minted = apitoken_create(user=account, days=1)[1]
    assert program(minted).get("/fhir/R4/Patient").status_code == 401
    assert not any(user_can(account, permission) for permission in PERMISSIONS)
