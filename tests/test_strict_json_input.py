"""Issue 18 items 1 and 2: every JSON text the API takes is read strictly.

A lone surrogate (``"\\ud800"``) or a NUL in any string, key or value, is refused with the
field's path and nothing is stored (on SQLite a stored surrogate made every later view of the
evaluation a 500; on PostgreSQL the insert itself failed with a 500). JSON nested deeper than
the reader's limit answers 400 instead of a RecursionError (500), on both endpoints that read
their body by hand: evaluations and FHIR QuestionnaireResponse.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from ketaclinic.eligibility.models import Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import ELIGIBLE_EVALUATION, post_json
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.tests.helpers import issues, post, response_body
from ketaclinic.intake.models import Inquiry
from ketaclinic.lib.strict_json import NUL_MESSAGE, SURROGATE_MESSAGE
from ketaclinic.patients.models import Patient
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic

SURROGATE = "\ud800"
NESTING = 100_000
# One wording for each problem, on every endpoint: the API's strict request reader
# (ketaclinic/web/request_body.py) refuses them before any schema sees the body.
MESSAGES = {SURROGATE: SURROGATE_MESSAGE, "\x00": NUL_MESSAGE}


def _evaluations(clinic: Clinic) -> str:
    return f"/api/v1/patients/{clinic.pat.pk}/evaluations"


def _fields(response: Any) -> list[str]:
    # A 400 problem-details answer listing each bad string's field (issue 18 item 4).
    assert response.status_code == 400, response.content[:500]
    return [problem["field"] for problem in response.json()["errors"]]


def _messages(response: Any) -> list[str]:
    return [problem["msg"] for problem in response.json()["errors"]]


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"notes": f"Pat felt calm {SURROGATE} today"}, "notes"),
        ({"medical_history": SURROGATE}, "medical_history"),
        (
            {"prior_treatments": [{"kind": "medication", "name": f"sertra{SURROGATE}line"}]},
            "prior_treatments[0].name",
        ),
        ({"allergies": ["penicillin", f"late{SURROGATE}x"]}, "allergies[1]"),
        ({"vitals": {f"systolic{SURROGATE}": 120}}, "vitals"),
        ({"allergies": ["penicillin", "late\x00x"]}, "allergies[1]"),
    ],
)
def test_a_lone_surrogate_or_nul_in_an_evaluation_is_refused_with_its_path(
    clinic: Clinic, change: dict[str, Any], field: str
) -> None:
    client = clinic.api("ada")
    kept = post_json(client, _evaluations(clinic), ELIGIBLE_EVALUATION)
    assert kept.status_code == 201, kept.content

    response = post_json(client, _evaluations(clinic), ELIGIBLE_EVALUATION | change)

    assert field in _fields(response)
    assert SURROGATE not in response.content.decode("utf-8", "surrogatepass")
    assert b"calm" not in response.content and b"sertra" not in response.content
    assert Evaluation.objects.count() == 1
    # Every view of the patient's evaluations still answers.
    assert client.get(_evaluations(clinic)).status_code == 200
    assert client.get(f"/api/v1/evaluations/{kept.json()['id']}").status_code == 200


def test_a_refused_evaluation_leaves_no_patient_data_in_the_log(
    clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    # On PostgreSQL the insert used to fail, and Django's error log carried the database's
    # error context: the note around the surrogate. Now nothing reaches the database.
    caplog.set_level(logging.DEBUG)
    note = f"Pat Zebulonia felt calm {SURROGATE} today"
    response = post_json(
        clinic.api("ada"), _evaluations(clinic), ELIGIBLE_EVALUATION | {"notes": note}
    )
    assert response.status_code == 400
    assert "Zebulonia" not in caplog.text
    assert not Evaluation.objects.exists()


def test_a_surrogate_sent_as_raw_bytes_is_refused(clinic: Clinic) -> None:
    # CESU-style bytes for U+D800: not UTF-8, though Python's json.loads(bytes) lets them in;
    # a body that is not UTF-8 is 415 (issue 18 item 4).
    body = json.dumps(ELIGIBLE_EVALUATION | {"notes": "X"}).encode().replace(b"X", b"\xed\xa0\x80")
    response = clinic.api("ada").post(_evaluations(clinic), body, content_type="application/json")
    assert response.status_code == 415, response.content
    assert not Evaluation.objects.exists()


def test_deeply_nested_json_to_evaluations_is_400_not_a_500(clinic: Clinic) -> None:
    client = clinic.api("ada")
    for body in (_deep(NESTING), b'{"notes": ' + _deep(NESTING) + b"}"):
        response = client.post(_evaluations(clinic), body, content_type="application/json")
        assert response.status_code == 400, response.content[:300]
        assert "deeper" in response.json()["detail"]
    assert not Evaluation.objects.exists()


def test_deeply_nested_json_to_fhir_questionnaire_response_is_400_operation_outcome(
    clinic: Clinic,
) -> None:
    body = response_body("gad7", clinic.pat.pk, [2, 3, 2, 1, 2, 1, 2])
    text = json.dumps(body | {"extension": "HOLE"}).replace('"HOLE"', "[" * NESTING + "]" * NESTING)
    response = clinic.api("ben").post(
        "/fhir/R4/QuestionnaireResponse", data=text, content_type="application/fhir+json"
    )
    assert response.status_code == 400, response.content[:300]
    (issue,) = issues(response)
    assert issue["code"] == "too-costly"
    assert not StoredResource.objects.exists()
    assert not Administration.objects.exists()


def test_deeply_nested_json_to_fhir_questionnaire_import_is_400_and_nul_is_refused(
    clinic: Clinic,
) -> None:
    # The Questionnaire import reads its body through the same reader.
    before = StoredResource.objects.count()
    deep = clinic.api("dana").post(
        "/fhir/R4/Questionnaire", data=_deep(NESTING), content_type="application/fhir+json"
    )
    assert deep.status_code == 400, deep.content[:300]
    assert [issue["code"] for issue in issues(deep)] == ["too-costly"]
    nul = post(
        clinic.api("dana"), "Questionnaire", {"resourceType": "Questionnaire", "title": "a\x00"}
    )
    assert nul.status_code == 400, nul.content[:300]
    assert [issue["expression"] for issue in issues(nul)] == [["Questionnaire.title"]]
    assert StoredResource.objects.count() == before


@pytest.mark.parametrize("bad", [SURROGATE, "\x00"])
def test_a_surrogate_or_nul_in_a_fhir_questionnaire_response_is_400_with_its_path(
    clinic: Clinic, bad: str
) -> None:
    # On main a surrogate was refused by fhir.resources, but a NUL was stored (and PostgreSQL's
    # jsonb cannot hold it).
    body = response_body("gad7", clinic.pat.pk, [2, 3, 2, 1, 2, 1, 2])
    body["subject"]["display"] = f"Pat {bad}"
    body["item"][0]["text"] = f"Feeling nervous{bad}"
    response = post(clinic.api("ben"), "QuestionnaireResponse", body)
    assert response.status_code == 400, response.content[:300]
    assert [(issue["code"], issue["expression"]) for issue in issues(response)] == [
        ("value", ["QuestionnaireResponse.subject.display"]),
        ("value", ["QuestionnaireResponse.item[0].text"]),
    ]
    assert not StoredResource.objects.exists()
    assert not Administration.objects.exists()


# The endpoints with Django Ninja schemas: the shared text types refuse them too. On main
# pydantic already refused a surrogate in any string, but as "Input should be a valid string,
# unable to parse raw data as a unicode string"; now the answer says what is wrong.


@pytest.mark.parametrize("bad", [SURROGATE, "\x00"])
def test_a_patient_name_with_a_surrogate_or_nul_is_refused(clinic: Clinic, bad: str) -> None:
    client = clinic.api("ada")
    before = Patient.objects.count()
    valid = {
        "given_name": "Avery",
        "family_name": "Testcase",
        "birth_date": "1990-01-31",
        "sex_at_birth": "female",
    }
    created = post_json(client, "/api/v1/patients", valid | {"given_name": f"Av{bad}ery"})
    assert _fields(created) == ["given_name"]
    assert _messages(created) == [MESSAGES[bad]]
    assert Patient.objects.count() == before

    patched = client.patch(
        f"/api/v1/patients/{clinic.pat.pk}",
        json.dumps({"family_name": f"Test{bad}case"}),
        content_type="application/json",
    )
    assert _fields(patched) == ["family_name"]
    assert _messages(patched) == [MESSAGES[bad]]
    clinic.pat.refresh_from_db()
    assert bad not in clinic.pat.family_name


@pytest.mark.parametrize("bad", [SURROGATE, "\x00"])
def test_an_inquiry_with_a_surrogate_or_nul_is_refused(db: Any, bad: str) -> None:
    body = {
        "name": "Robin Asker",
        "email": "robin@example.org",
        "preferred_contact": "email",
        "concerns": ["social_anxiety"],
        "message": f"Hello{bad}",
        "consent_to_contact": True,
    }
    response = Client().post("/api/v1/inquiries", json.dumps(body), content_type="application/json")
    assert _fields(response) == ["message"]
    assert _messages(response) == [MESSAGES[bad]]
    assert not Inquiry.objects.exists()


def _inquiry_form(message: str) -> Any:
    fields = {
        "name": "Robin Asker",
        "email": "robin@example.org",
        "preferred_contact": "email",
        "concerns": "social_anxiety",
        "consent_to_contact": "on",
    }
    body = urlencode(fields) + "&message=" + message  # message: already percent-encoded
    return Client().post("/clinic/inquiry/", body, content_type="application/x-www-form-urlencoded")


def test_a_page_form_cannot_receive_a_lone_surrogate(db: Any) -> None:
    """A form body is bytes that Django decodes as UTF-8 with replacement: a surrogate's bytes
    (there is no escape for one in a form) arrive as U+FFFD, never as a lone surrogate, so the
    page forms need no check of their own."""
    assert _inquiry_form("Hello%ED%A0%80there").status_code == 302
    message = Inquiry.objects.get().message
    assert message == "Hello\ufffd\ufffd\ufffdthere"
    assert not any("\ud800" <= ch <= "\udfff" for ch in message)


def test_a_page_form_refuses_nul(db: Any) -> None:
    response = _inquiry_form("Hello%00there")
    assert response.status_code == 200  # the form again, with the error beside the field
    assert "Null characters are not allowed" in response.content.decode()
    assert not Inquiry.objects.exists()
