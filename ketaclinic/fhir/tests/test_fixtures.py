"""The public FHIR fixtures (../shared/fixtures, absent from a fresh clone: then skipped).

Good definitions import, link to the built-in by LOINC code and score the same as it; the
known faults (a broken score expression, linkIds that match no item, a stated total that
disagrees with the answers) are reported as OperationOutcome issues, never a crash, never a
stored wrong score."""

from __future__ import annotations

from typing import Any

from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.models import StoredResource
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic

from .helpers import fixture, issues, post, response_body, valid


def _import(clinic: Clinic, name: str) -> Questionnaire:
    response = post(clinic.api("dana"), "Questionnaire", fixture(f"questionnaires/{name}"))
    assert response.status_code == 201, response.content
    return Questionnaire.model_validate_json(response.content)


def _answer(client: Client, body: dict[str, Any], patient: Any, url: str) -> Any:
    body = {**body, "subject": {"reference": f"Patient/{patient.pk}"}, "questionnaire": url}
    body.pop("id", None)
    return post(client, "QuestionnaireResponse", body)


def _builtin_total(clinic: Clinic, code: str, weights: list[int]) -> int:
    created = post(clinic.api("ben"), "QuestionnaireResponse",
                   response_body(code, clinic.quinn.pk, weights))  # fmt: skip
    assert created.status_code == 201, created.content
    total = Administration.objects.filter(patient=clinic.quinn).latest("created_at").total
    assert total is not None
    return total


def _last_total(clinic: Clinic) -> int | None:
    return Administration.objects.filter(patient=clinic.pat).latest("created_at").total


def test_gad7_mii_imports_with_its_variable_and_scores_as_the_builtin(clinic: Clinic) -> None:
    imported = _import(clinic, "gad7-mii.json")
    assert StoredResource.objects.get(resource_type="Questionnaire").instrument == "gad7"
    assert AuditEvent.objects.filter(action="C", object_type="Questionnaire").count() == 1
    response = fixture("responses/gad7-mii-response.json")
    created = _answer(clinic.api("ada"), response, clinic.pat, str(imported.url))
    assert created.status_code == 201, created.content
    assert _last_total(clinic) == 13 == _builtin_total(clinic, "gad7", [2, 3, 2, 1, 2, 1, 2])

    search = clinic.api("ben").get("/fhir/R4/Questionnaire?code=http://loinc.org|69737-5")
    urls = [e["resource"]["url"] for e in valid(Bundle, search.content)["entry"]]
    assert urls == ["https://ketaclinic.org/fhir/Questionnaire/gad7", imported.url]


def test_phq9_lhcforms_imports_and_scores_a_us_core_response_as_the_builtin(
    clinic: Clinic,
) -> None:
    imported = _import(clinic, "phq9-lhcforms.json")
    # It had no url: it gets one of ours. Its variables (q1_value...) are renamed to R4 ids.
    assert imported.url == f"https://ketaclinic.org/fhir/Questionnaire/{imported.id}"
    assert "q1value" in imported.model_dump_json()
    response = fixture("responses/phq9-bhp-response.json")  # answers 2,2,2,2,1,1,2,0,0; 12
    created = _answer(clinic.api("ben"), response, clinic.pat, str(imported.url))
    assert created.status_code == 201, created.content
    assert _last_total(clinic) == 12 == _builtin_total(clinic, "phq9", [2, 2, 2, 2, 1, 1, 2, 0, 0])


def test_phq9_sdc_nested_groups_and_contained_value_set_score_as_the_builtin(
    clinic: Clinic,
) -> None:
    imported = _import(clinic, "phq9-sdc.json")
    assert StoredResource.objects.get(resource_type="Questionnaire").instrument == "phq9"
    response = fixture("responses/phq9-sdc-response.json")
    # The fixture's fault: its stated total is 13, its answers add up to 10.
    before = AuditEvent.objects.filter(action="C").count()
    refused = _answer(clinic.api("ben"), response, clinic.pat, str(imported.url))
    assert refused.status_code == 422
    [issue] = issues(refused)
    assert "states 13" in issue["diagnostics"] and "give 10" in issue["diagnostics"]
    assert issue["expression"] == [
        "QuestionnaireResponse.item.where(linkId='H1/T1').item.where(linkId='H1/TS')"
    ]
    assert not Administration.objects.exists()
    assert AuditEvent.objects.filter(action="C").count() == before

    group = response["item"][0]
    group["item"] = [item for item in group["item"] if item["linkId"] != "H1/TS"]
    created = _answer(clinic.api("ben"), response, clinic.pat, str(imported.url))
    assert created.status_code == 201, created.content
    assert _last_total(clinic) == 10 == _builtin_total(clinic, "phq9", [0, 0, 0, 1, 2, 1, 3, 2, 1])


def test_phq9_mii_broken_expression_is_reported_and_nothing_imported(clinic: Clinic) -> None:
    refused = post(clinic.api("dana"), "Questionnaire", fixture("questionnaires/phq9-mii.json"))
    assert refused.status_code == 422
    [issue] = issues(refused)
    assert issue["code"] == "invariant"
    assert "binds tighter" in issue["diagnostics"]
    assert issue["expression"] == ["Questionnaire.item[10].extension[0].valueExpression"]
    assert not StoredResource.objects.exists()


def _phq9_mii_fixed() -> dict[str, Any]:
    definition = fixture("questionnaires/phq9-mii.json")
    for item in definition["item"]:
        for extension in item.get("extension", []):
            if "valueExpression" in extension:
                extension["valueExpression"]["expression"] = (
                    "%resource.item.where(linkId!='PHQ-9.10' and linkId!='PHQ-9.Score')"
                    ".answer.value.weight().sum()"
                )
    return definition


def test_phq9_mii_response_linkids_matching_no_item_are_each_reported(clinic: Clinic) -> None:
    created = post(clinic.api("dana"), "Questionnaire", _phq9_mii_fixed())
    assert created.status_code == 201, created.content
    url = Questionnaire.model_validate_json(created.content).url
    response = fixture("responses/phq9-mii-response.json")
    refused = _answer(clinic.api("ben"), response, clinic.pat, str(url))
    assert refused.status_code == 422
    found = issues(refused)
    unknown = sorted(i["diagnostics"].split("'")[1] for i in found if i["code"] == "invalid")
    assert unknown == sorted([f"PHQ.{n}" for n in range(1, 11)] + ["PHQ.Score"])
    missing = [i for i in found if i["code"] == "required"]
    assert len(missing) == 9
    assert not Administration.objects.exists()


def test_fixed_phq9_mii_scores_as_the_builtin(clinic: Clinic) -> None:
    created = post(clinic.api("dana"), "Questionnaire", _phq9_mii_fixed())
    url = Questionnaire.model_validate_json(created.content).url
    response = fixture("responses/phq9-mii-response.json")
    for item in response["item"]:
        item["linkId"] = item["linkId"].replace("PHQ.", "PHQ-9.")
    answered = _answer(clinic.api("ben"), response, clinic.pat, str(url))
    assert answered.status_code == 201, answered.content
    assert _last_total(clinic) == 27 == _builtin_total(clinic, "phq9", [3] * 9)


def test_only_an_admin_imports(clinic: Clinic) -> None:
    definition = fixture("questionnaires/gad7-mii.json")
    for user in ("ada", "ben", "cleo", "pat"):
        response = post(clinic.api(user), "Questionnaire", definition)
        assert response.status_code == 403
        assert issues(response)[0]["code"] == "forbidden"
    assert not StoredResource.objects.exists()


def test_importing_the_same_url_twice_is_refused(clinic: Clinic) -> None:
    _import(clinic, "gad7-mii.json")
    again = post(clinic.api("dana"), "Questionnaire", fixture("questionnaires/gad7-mii.json"))
    assert again.status_code == 422
    assert issues(again)[0]["code"] == "duplicate"
