"""Every write of the JSON API is safe to retry under an Idempotency-Key (issue 18 item 3):
a replay answers as the first request did and stores nothing again; the same key with another
body answers 422 and stores nothing; a refused write releases its key."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from ketaclinic.idempotency.models import IdempotentRequest
from ketaclinic.infusions.models import Session, VitalsReading
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.ledger.tests.conftest import location_make, receive, session_make
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

PATIENT: dict[str, Any] = {
    "given_name": "Avery",
    "family_name": "Retry",
    "birth_date": "1990-01-31",
    "sex_at_birth": "female",
}


def post(client: Client, url: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def vial(clinic: Clinic) -> Container:
    return receive(clinic, location_make(clinic))[0]


@pytest.fixture
def session(clinic: Clinic) -> Session:
    return session_make(clinic)


def draws() -> int:
    return LedgerEntry.objects.filter(kind=EntryKind.DRAW).count()


def test_a_retried_ledger_draw_is_stored_once_and_answered_as_the_first(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    ben = clinic.api("ben")
    url = f"/api/v1/ledger/containers/{vial.pk}/draws"
    body = {"session": str(session.pk), "volume_ml": "2.5"}
    key = str(uuid.uuid4())
    first = post(ben, url, body, key)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    for _ in range(3):
        again = post(ben, url, body, key)
        assert again.status_code == first.status_code
        assert again.content == first.content
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
    assert draws() == 1
    balance = clinic.api("dana").get(f"/api/v1/ledger/containers/{vial.pk}").json()
    assert Decimal(balance["balance_ml"]) == Decimal("7.5")
    # A new key is a new draw.
    assert post(ben, url, body, str(uuid.uuid4())).status_code == 201
    assert draws() == 2


def test_a_reused_key_with_another_draw_answers_422_and_stores_nothing(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    ben = clinic.api("ben")
    url = f"/api/v1/ledger/containers/{vial.pk}/draws"
    key = "tablet-3-draw-0001"
    assert post(ben, url, {"session": str(session.pk), "volume_ml": "1"}, key).status_code == 201
    stored = (draws(), IdempotentRequest.objects.count())
    response = post(ben, url, {"session": str(session.pk), "volume_ml": "3"}, key)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"] == "urn:ketaclinic:problem:idempotency-key-reused"
    assert [p["field"] for p in problem["detail"]] == ["Idempotency-Key"]
    assert (draws(), IdempotentRequest.objects.count()) == stored


def test_a_refused_write_releases_its_key(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    ben = clinic.api("ben")
    url = f"/api/v1/ledger/containers/{vial.pk}/draws"
    body = {"session": str(session.pk), "volume_ml": "10.5"}  # more than the vial holds
    refused = post(ben, url, body, "draw-too-much")
    assert refused.status_code == 409
    assert not IdempotentRequest.objects.exists()
    assert post(ben, url, body, "draw-too-much").status_code == 409  # ran again, not replayed
    assert draws() == 0


def test_a_retried_patient_create_makes_one_patient(clinic: Clinic) -> None:
    ada = clinic.api("ada")
    before = Patient.objects.count()
    first = post(ada, "/api/v1/patients", PATIENT, "new-patient-1")
    assert first.status_code == 201, first.content
    again = post(ada, "/api/v1/patients", PATIENT, "new-patient-1")
    assert (again.status_code, again.content) == (201, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert Patient.objects.count() == before + 1
    other = post(ada, "/api/v1/patients", PATIENT | {"given_name": "Blake"}, "new-patient-1")
    assert other.status_code == 422
    assert Patient.objects.count() == before + 1


def test_keys_belong_to_their_user(clinic: Clinic) -> None:
    """Cleo's key does not answer Ada's request: each creates a patient."""
    before = Patient.objects.count()
    assert post(clinic.api("ada"), "/api/v1/patients", PATIENT, "shared").status_code == 201
    assert post(clinic.api("cleo"), "/api/v1/patients", PATIENT, "shared").status_code == 201
    assert Patient.objects.count() == before + 2


@pytest.mark.parametrize("key", ["x" * 101, "has space", "é"])
def test_an_invalid_key_answers_422_and_stores_nothing(clinic: Clinic, key: str) -> None:
    before = Patient.objects.count()
    response = post(clinic.api("ada"), "/api/v1/patients", PATIENT, key)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "Idempotency-Key"
    assert Patient.objects.count() == before


def test_writes_without_a_key_are_each_run(clinic: Clinic) -> None:
    before = Patient.objects.count()
    post(clinic.api("ada"), "/api/v1/patients", PATIENT)
    post(clinic.api("ada"), "/api/v1/patients", PATIENT)
    assert Patient.objects.count() == before + 2
    assert not IdempotentRequest.objects.exists()


def test_a_vitals_retry_with_other_values_answers_422_and_is_not_dropped_silently(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported case: a systolic of 190 under a reused key was answered 200 with the old
    reading and never stored, so no alert was raised."""
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart: Chart = chart_for(clinic)
    chart.infusing()
    first = chart.vitals(key="tablet-7-0042", systolic=128)
    assert first.status_code == 201
    replay = chart.vitals(key="tablet-7-0042", systolic=128)
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay["Idempotent-Replayed"] == "true"
    before = VitalsReading.objects.count()
    changed = chart.vitals(key="tablet-7-0042", systolic=190)
    assert changed.status_code == 422
    assert changed["Content-Type"] == "application/problem+json"
    assert [p["field"] for p in changed.json()["detail"]] == ["Idempotency-Key"]
    assert VitalsReading.objects.count() == before
    assert not IdempotentRequest.objects.exists()  # the vitals keep their own key


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_concurrent_draws_with_one_key_store_one_draw(clinic: Clinic) -> None:
    vial = receive(clinic, location_make(clinic))[0]
    session = session_make(clinic)
    url = f"/api/v1/ledger/containers/{vial.pk}/draws"
    body = {"session": str(session.pk), "volume_ml": "1"}
    token = clinic.token("ben")

    def attempt(_: int) -> tuple[int, bytes]:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            response = post(client, url, body, "same-draw")
            return response.status_code, response.content
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(attempt, range(4)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({content for _, content in answers}) == 1
    assert draws() == 1


def test_every_write_in_the_openapi_lists_the_idempotency_header(clinic: Clinic) -> None:
    schema = clinic.api("ada").get("/api/v1/openapi.json").json()
    writes = missing = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"post", "put", "patch"} or not operation.get("security"):
                continue
            writes += 1
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" not in names:
                missing += 1
                print("no Idempotency-Key:", method.upper(), path)
    assert writes > 40  # the ledger, the chart, patients, intake, consent, scales, courses
    assert missing == 0
    vitals = schema["paths"]["/api/v1/sessions/{session_id}/vitals"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in vitals["parameters"]}
