"""Built-in instruments as R4 Questionnaires: valid R4B, searchable, and scored as built."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.questionnaire import Questionnaire

from ketaclinic.fhir.questionnaire import builtin_questionnaire, builtin_url
from ketaclinic.fhir.scoring_plan import plan_read
from ketaclinic.scales import instruments
from ketaclinic.testing import Clinic

from .helpers import FHIR, valid


@pytest.mark.parametrize("code", instruments.BUILTIN_CODES)
def test_every_builtin_round_trips_through_r4b_and_its_scoring_plan(code: str) -> None:
    instrument = instruments.get(code)
    resource = builtin_questionnaire(instrument)
    model = Questionnaire.model_validate(resource)
    again = Questionnaire.model_validate_json(model.model_dump_json())
    assert again.model_dump() == model.model_dump()
    plan = plan_read(resource, instruments.load_builtin(), instrument)
    assert plan.instrument.code == code
    for item in instrument.items:
        planned = plan.items[item.link_id]
        assert planned.target == item.link_id
        weights = [Decimal(-1) if o.weight is None else o.weight for o in planned.options]
        assert sorted(weights) == sorted(Decimal(w) for w in item.weights)
        if item.loinc:
            assert planned.loinc == item.loinc


def _search(clinic: Clinic, query: str) -> dict[str, Any]:
    response = clinic.api("ben").get(f"/fhir/R4/Questionnaire?{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(FHIR)
    return valid(Bundle, response.content)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code=http://loinc.org|69737-5", ["gad7"]),
        ("code=44249-1", ["phq9"]),
        ("url=https://ketaclinic.org/fhir/Questionnaire/cssrs-screener", ["cssrs-screener"]),
        ("name=GAD7", ["gad7"]),
        ("name=phq", ["phq9"]),
        ("_id=hama", ["hama"]),
        ("code=http://snomed.info/sct|69737-5", []),
    ],
)
def test_questionnaire_search_by_code_url_name_and_id(
    clinic: Clinic, query: str, expected: list[str]
) -> None:
    bundle = _search(clinic, query)
    assert bundle["type"] == "searchset"
    assert [entry["resource"]["id"] for entry in bundle.get("entry", [])] == expected
    assert bundle["total"] == len(expected)


def test_questionnaire_search_lists_every_builtin_and_each_has_loinc_where_known(
    clinic: Clinic,
) -> None:
    bundle = _search(clinic, "")
    by_url = {entry["resource"]["url"]: entry["resource"] for entry in bundle["entry"]}
    assert set(by_url) == {builtin_url(code) for code in instruments.BUILTIN_CODES}
    gad7 = by_url[builtin_url("gad7")]
    assert [item["code"][0]["code"] for item in gad7["item"]] == [
        "69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"
    ]  # fmt: skip
    first = gad7["item"][0]["answerOption"][0]["valueCoding"]
    assert (first["code"], first["extension"][0]["valueDecimal"]) == ("LA6568-5", 0)


def test_questionnaire_read_and_unknown_id(clinic: Clinic) -> None:
    client = clinic.api("pat")
    found = client.get("/fhir/R4/Questionnaire/phq9")
    assert valid(Questionnaire, found.content)["url"] == builtin_url("phq9")
    missing = client.get("/fhir/R4/Questionnaire/nothing")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"


def test_unknown_search_parameter_is_ignored_and_named_or_refused_when_strict(
    clinic: Clinic,
) -> None:
    lenient = clinic.api("ben").get("/fhir/R4/Questionnaire?title=x&_count=500")
    assert lenient.status_code == 200
    outcome = [e for e in lenient.json()["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome[0]["resource"]["issue"][0]["expression"] == ["title"]
    strict = clinic.api("ben").get(
        "/fhir/R4/Questionnaire?title=x", headers={"Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["title"]


def test_questionnaire_search_pages_with_count(clinic: Clinic) -> None:
    client = clinic.api("ben")
    everything = [e["resource"]["id"] for e in _search(clinic, "_count=200")["entry"]]
    seen: list[str] = []
    url: str | None = "/fhir/R4/Questionnaire?_count=2"
    pages = []
    while url is not None:
        page = client.get(url).json()
        pages.append(page)
        seen.extend(e["resource"]["id"] for e in page.get("entry", []))
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert seen == everything and len(pages) == -(-len(everything) // 2)
    back = next(link["url"] for link in pages[-1]["link"] if link["relation"] == "previous")
    previous = client.get(back).json()
    assert [e["resource"]["id"] for e in previous["entry"]] == [
        e["resource"]["id"] for e in pages[-2]["entry"]
    ]
    assert client.get("/fhir/R4/Questionnaire?_summary=count").json()["total"] == len(everything)


def test_canonical_base_is_a_setting(clinic: Clinic, settings: object) -> None:
    settings.KETACLINIC_FHIR_CANONICAL_BASE = "https://clinic.example/fhir"  # type: ignore[attr-defined]
    bundle = _search(clinic, "_id=gad7")
    assert bundle["entry"][0]["resource"]["url"] == "https://clinic.example/fhir/Questionnaire/gad7"


def test_metadata_says_fhir_401_and_lists_resources(clinic: Clinic) -> None:
    response = clinic.api("pat").get("/fhir/R4/metadata")
    statement = valid(CapabilityStatement, response.content)
    assert statement["fhirVersion"] == "4.0.1"
    types = {resource["type"] for resource in statement["rest"][0]["resource"]}
    assert types == {
        "Questionnaire",
        "QuestionnaireResponse",
        "Observation",
        "Flag",
        "Patient",
        "Practitioner",
        "Location",
        "Encounter",
        "MedicationAdministration",
        "Consent",
        "Organization",
        "Condition",
        "AllergyIntolerance",
        "Medication",
        "MedicationRequest",
        "PractitionerRole",
        "DocumentReference",
        "AuditEvent",
        "Provenance",
        "Binary",
        "Group",
        "CarePlan",
    }
    operations = {op["name"] for op in statement["rest"][0]["operation"]}
    assert operations == {"export", "patient-export", "group-export"}  # Bulk Data


def test_anonymous_gets_401_operation_outcome(db: object) -> None:
    from django.test import Client

    response = Client().get("/fhir/R4/metadata")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["issue"][0]["code"] == "login"
