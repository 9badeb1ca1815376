"""Every error of the JSON API is an RFC 9457 problem (application/problem+json), and every
error of FHIR an OperationOutcome, also where Django or django-axes would answer with a page
(issue 18 item 7): a body over the limit (413), the second-check lockout (429), an unhandled
exception (500, no traceback, no patient data), the database gone (503 with Retry-After)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from ketaclinic.infusions.tests.chart_driver import chart_for
from ketaclinic.testing import Clinic

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"
CANARY = "Zebulon Canarywood"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].split(";")[0] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    assert "detail" in body
    text = response.content.decode()
    for leak in ("<html", "<nav", "csrfmiddlewaretoken", "Traceback", CANARY):
        assert leak not in text
    assert "csrftoken" not in response.cookies
    return dict(body)


def assert_outcome(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].split(";")[0] == FHIR
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    assert "Traceback" not in response.content.decode()
    assert CANARY not in response.content.decode()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_body_over_the_limit_answers_413_problem(clinic: Clinic) -> None:
    body = json.dumps({"given_name": "A" * 20_000, "family_name": "B"})
    response = clinic.api("ada").post("/api/v1/patients", body, content_type="application/json")
    problem = assert_problem(response, 413)
    assert "larger" in problem["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_fhir_body_over_the_limit_answers_413_operation_outcome(clinic: Clinic) -> None:
    body = json.dumps({"resourceType": "QuestionnaireResponse", "text": "x" * 20_000})
    response = clinic.api("ada").post(
        "/fhir/R4/QuestionnaireResponse", body, content_type="application/fhir+json"
    )
    assert_outcome(response, 413, "too-costly")


def test_the_second_check_lockout_answers_429_problem_not_a_page(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(clinic)
    chart.check_in()
    chart.prechecks()
    chart.vitals()
    assert chart.dose().status_code in (200, 201)
    answers = [chart.second_check("ada", password="guess") for _ in range(6)]
    locked = answers[-1]
    problem = assert_problem(locked, 429)
    assert int(locked["Retry-After"]) > 0
    assert "Try again" in problem["detail"]


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(f"patient {CANARY} broke something")


def _database_gone(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError(f'connection refused; DETAIL: Key (name)=({CANARY}) in "patients"')


def test_an_unhandled_exception_answers_500_problem_without_traceback_or_patient_data(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketaclinic.patients.selectors.patient_list_for_user", _explode)
    response = clinic.api("ada").get("/api/v1/patients")
    assert_problem(response, 500)


def test_an_unreachable_database_answers_503_with_retry_after(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketaclinic.patients.selectors.patient_list_for_user", _database_gone)
    response = clinic.api("ada").get("/api/v1/patients")
    assert_problem(response, 503)
    assert int(response["Retry-After"]) > 0


def test_fhir_keeps_operation_outcome_for_500_and_503(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketaclinic.fhir.selectors.flag_search", _explode)
    assert_outcome(clinic.api("ada").get("/fhir/R4/Flag"), 500, "exception")
    monkeypatch.setattr("ketaclinic.fhir.selectors.flag_search", _database_gone)
    gone = clinic.api("ada").get("/fhir/R4/Flag")
    assert_outcome(gone, 503, "transient")
    assert int(gone["Retry-After"]) > 0


def test_unknown_paths_and_methods_under_the_api_answer_problems(clinic: Clinic) -> None:
    ada = clinic.api("ada")
    assert_problem(ada.get("/api/v1/no-such-thing"), 404)
    assert_problem(ada.get("/api/v1/"), 404)  # Django Ninja's home raises Http404
    not_allowed = ada.delete("/api/v1/patients")
    assert_problem(not_allowed, 405)
    assert "GET" in not_allowed["Allow"]
    assert_problem(Client().get("/api/v1/patients"), 401)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/v1/patients/00000000-0000-0000-0000-000000000000", None, 404),
        ("post", "/api/v1/patients", {"given_name": 5}, 422),
    ],
)
def test_the_api_s_own_errors_are_problems(
    clinic: Clinic, method: str, path: str, body: Any, status: int
) -> None:
    client = clinic.api("ada")
    if body is None:
        response = getattr(client, method)(path)
    else:
        response = getattr(client, method)(path, body, content_type="application/json")
    assert_problem(response, status)


def test_a_forbidden_read_is_a_403_problem(clinic: Clinic) -> None:
    response = clinic.api("pat").get("/api/v1/ledger/containers")
    assert_problem(response, 403)


def test_an_id_too_large_for_the_database_answers_422_not_500(clinic: Clinic) -> None:
    """Found by the schemathesis drill: 2**70 as a consent document id was an OverflowError
    (SQLite; a DataError on PostgreSQL) and a 500."""
    response = clinic.api("ada").post(
        f"/api/v1/patients/{clinic.pat.pk}/consent-links",
        {"documents": [2**70]},
        content_type="application/json",
    )
    assert_problem(response, 422)
