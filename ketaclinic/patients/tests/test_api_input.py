"""Bad input to every patient endpoint (wrong types, missing fields, unknown fields, huge
strings, invalid dates) answers 4xx with field paths and stores nothing."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

PATIENTS = "/api/v1/patients"
VALID: dict[str, Any] = {
    "given_name": "Avery",
    "family_name": "Testcase",
    "birth_date": "1990-01-31",
    "sex_at_birth": "female",
}
HUGE = "x" * 100_000  # 100 KB
WRITES = (Action.CREATE, Action.UPDATE)


def _json(value: Any) -> str:
    return json.dumps(value)


def _row(patient_id: uuid.UUID) -> dict[str, object]:
    return dict(Patient.objects.filter(pk=patient_id).values().get())


def _snapshot() -> tuple[list[dict[str, object]], int]:
    """Every patient row, field by field, and the number of create/update audit events."""
    rows = [dict(row) for row in Patient.objects.order_by("pk").values()]
    writes = AuditEvent.objects.filter(action__in=WRITES).count()
    return rows, writes


def _assert_field_problems(response: Any, fields: set[str]) -> None:
    """A 422 whose problems name exactly `fields`, each with a matching body path."""
    assert response.status_code == 422, response.content[:500]
    problems = response.json()["detail"]
    assert isinstance(problems, list)
    assert problems, "a 422 must say what is wrong"
    for problem in problems:
        assert set(problem) == {"loc", "field", "msg", "type"}
        assert isinstance(problem["loc"], list)
        assert problem["loc"][0] == "body"
        assert problem["loc"][-1] == problem["field"]
        assert problem["msg"]
        assert problem["type"]
    assert {p["field"] for p in problems} == fields
    # The problem is described, not echoed: a 100 KB value does not come back.
    assert len(response.content) < 5_000


# (case id, changes to a valid body, fields reported). None as a change means "leave out".
BAD_FIELDS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("given_name_number", {"given_name": 42}, {"given_name"}),
    ("given_name_list", {"given_name": ["Avery"]}, {"given_name"}),
    ("given_name_bool", {"given_name": True}, {"given_name"}),
    ("given_name_null", {"given_name": None}, {"given_name"}),
    ("given_name_object", {"given_name": {"text": "Avery"}}, {"given_name"}),
    ("given_name_blank", {"given_name": "   "}, {"given_name"}),
    ("given_name_101_chars", {"given_name": "a" * 101}, {"given_name"}),
    ("given_name_100_kb", {"given_name": HUGE}, {"given_name"}),
    ("address_100_kb", {"address": HUGE}, {"address"}),
    ("phone_number_type", {"phone": 5550100}, {"phone"}),
    ("unknown_field", {"nickname": "Ave"}, {"nickname"}),
    ("birth_date_feb_30", {"birth_date": "2020-02-30"}, {"birth_date"}),
    ("birth_date_dd_mm_yyyy", {"birth_date": "30/01/1990"}, {"birth_date"}),
    ("birth_date_number", {"birth_date": 19900101}, {"birth_date"}),
    ("birth_date_datetime", {"birth_date": "1990-01-31T00:00:00"}, {"birth_date"}),
    ("birth_date_far_future", {"birth_date": "2999-01-01"}, {"birth_date"}),
    ("birth_date_before_1900", {"birth_date": "1899-12-31"}, {"birth_date"}),
    ("birth_date_null", {"birth_date": None}, {"birth_date"}),
    ("sex_at_birth_robot", {"sex_at_birth": "robot"}, {"sex_at_birth"}),
    ("sex_at_birth_wrong_case", {"sex_at_birth": "Female"}, {"sex_at_birth"}),
    # The schema takes any string; the model's full_clean refuses it, with the same shape.
    ("email_not_an_email", {"email": "not-an-email"}, {"email"}),
    (
        "two_fields_wrong",
        {"given_name": 1, "sex_at_birth": "robot"},
        {"given_name", "sex_at_birth"},
    ),
]

# (case id, raw body, content type, status)
BAD_BODIES: list[tuple[str, str, str, int]] = [
    ("not_json", "{given_name: Avery", "application/json", 400),
    (
        "form_encoded",
        "given_name=Avery&family_name=Testcase",
        "application/x-www-form-urlencoded",
        415,  # the API takes application/json only (issue 18 item 4)
    ),
    ("deeply_nested", "[" * 100_000 + "]" * 100_000, "application/json", 400),
    ("json_array", _json([VALID]), "application/json", 422),
    ("json_string", _json("Avery"), "application/json", 422),
    ("json_null", "null", "application/json", 422),
    ("empty", "", "application/json", 422),
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The personas' passwords play no part here; Argon2 would make each test take a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada_api(clinic: Clinic) -> Client:
    return clinic.api("ada")


# --- POST /api/v1/patients -------------------------------------------------------------------


def test_create_with_valid_input_answers_201_with_an_mrn_and_one_create_event(
    clinic: Clinic, ada_api: Client
) -> None:
    before = Patient.objects.count()
    body = {**VALID, "given_name": "  Avery  ", "email": "avery@example.org", "phone": "555-0123"}
    response = ada_api.post(PATIENTS, _json(body), content_type="application/json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert re.fullmatch(r"KC\d{7}", data["mrn"])
    assert Patient.objects.count() == before + 1
    stored = Patient.objects.get(pk=data["id"])
    assert stored.mrn == data["mrn"]
    assert stored.given_name == "Avery"  # white space stripped
    assert stored.birth_date.isoformat() == "1990-01-31"
    assert stored.email == "avery@example.org"
    events = AuditEvent.objects.filter(patient_id=stored.pk)
    assert [(e.action, e.actor_id) for e in events] == [(Action.CREATE, clinic.users["ada"].pk)]


def test_create_accepts_a_birth_date_of_today_and_refuses_tomorrow(ada_api: Client) -> None:
    today = timezone.localdate()
    tomorrow = ada_api.post(
        PATIENTS,
        _json({**VALID, "birth_date": (today + timedelta(days=1)).isoformat()}),
        content_type="application/json",
    )
    _assert_field_problems(tomorrow, {"birth_date"})
    ok = ada_api.post(
        PATIENTS, _json({**VALID, "birth_date": today.isoformat()}), content_type="application/json"
    )
    assert ok.status_code == 201


def test_create_accepts_a_given_name_of_exactly_100_characters(ada_api: Client) -> None:
    response = ada_api.post(
        PATIENTS, _json({**VALID, "given_name": "a" * 100}), content_type="application/json"
    )
    assert response.status_code == 201
    assert len(response.json()["given_name"]) == 100


@pytest.mark.parametrize(
    ("changes", "fields"), [(c, f) for _, c, f in BAD_FIELDS], ids=[i for i, _, _ in BAD_FIELDS]
)
def test_create_with_a_bad_field_answers_422_naming_it_and_stores_nothing(
    ada_api: Client, changes: dict[str, Any], fields: set[str]
) -> None:
    before = _snapshot()
    response = ada_api.post(PATIENTS, _json({**VALID, **changes}), content_type="application/json")
    _assert_field_problems(response, fields)
    assert _snapshot() == before


def test_create_missing_required_fields_reports_them_all_together(ada_api: Client) -> None:
    before = _snapshot()
    body = {"family_name": "Testcase", "email": "avery@example.org"}
    response = ada_api.post(PATIENTS, _json(body), content_type="application/json")
    _assert_field_problems(response, {"given_name", "birth_date", "sex_at_birth"})
    assert {p["type"] for p in response.json()["detail"]} == {"missing"}
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b, c, s) for _, b, c, s in BAD_BODIES],
    ids=[i for i, _, _, _ in BAD_BODIES],
)
def test_create_with_a_body_that_is_not_a_json_object_answers_4xx_and_stores_nothing(
    ada_api: Client, body: str, content_type: str, status: int
) -> None:
    before = _snapshot()
    response = ada_api.post(PATIENTS, body, content_type=content_type)
    assert response.status_code == status, response.content[:500]
    detail = response.json()["detail"]
    if status == 422:
        assert [p["loc"] for p in detail] == [["body", "payload"]]
        assert detail[0]["field"] == "payload"
    else:  # refused by the strict request reader: problem details (NUL: tests/test_strict_*)
        assert response.json()["status"] == status
        assert "Avery" not in detail
    assert _snapshot() == before


# --- PATCH /api/v1/patients/{id} -------------------------------------------------------------


def _patch(client: Client, patient_id: object, body: Any) -> Any:
    raw = body if isinstance(body, str) else _json(body)
    return client.patch(f"{PATIENTS}/{patient_id}", raw, content_type="application/json")


def test_patch_changes_only_the_fields_sent_and_writes_one_update_event(
    clinic: Clinic, ada_api: Client
) -> None:
    quinn = clinic.quinn
    before = _row(quinn.pk)
    writes_before = AuditEvent.objects.filter(action__in=WRITES).count()

    response = _patch(ada_api, quinn.pk, {"phone": "555-0111", "pronouns": "he/him"})

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "555-0111"
    after = _row(quinn.pk)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"phone", "pronouns", "updated_at"}
    assert after["phone"] == "555-0111"
    assert after["pronouns"] == "he/him"
    updates = AuditEvent.objects.filter(action=Action.UPDATE, patient_id=quinn.pk)
    assert [(e.object_id, e.actor_id) for e in updates] == [(str(quinn.pk), clinic.users["ada"].pk)]
    assert AuditEvent.objects.filter(action__in=WRITES).count() == writes_before + 1


PATCH_BAD_FIELDS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("given_name_null", {"given_name": None}, {"given_name"}),
    ("birth_date_null", {"birth_date": None}, {"birth_date"}),
    ("sex_at_birth_null", {"sex_at_birth": None}, {"sex_at_birth"}),
    ("phone_null", {"phone": None}, {"phone"}),
    ("unknown_field", {"nickname": "Q"}, {"nickname"}),
    ("unknown_field_with_a_valid_one", {"phone": "555-0111", "mrn": "KC0000001"}, {"mrn"}),
    ("given_name_number", {"given_name": 42}, {"given_name"}),
    ("given_name_list", {"given_name": ["Quinn"]}, {"given_name"}),
    ("given_name_bool", {"given_name": False}, {"given_name"}),
    ("given_name_empty", {"given_name": ""}, {"given_name"}),
    ("given_name_100_kb", {"given_name": HUGE}, {"given_name"}),
    ("birth_date_feb_30", {"birth_date": "2020-02-30"}, {"birth_date"}),
    ("birth_date_dd_mm_yyyy", {"birth_date": "30/01/1990"}, {"birth_date"}),
    ("birth_date_number", {"birth_date": 19900101}, {"birth_date"}),
    ("birth_date_future", {"birth_date": "2999-01-01"}, {"birth_date"}),
    ("birth_date_before_1900", {"birth_date": "1899-12-31"}, {"birth_date"}),
    ("sex_at_birth_robot", {"sex_at_birth": "robot"}, {"sex_at_birth"}),
    ("email_not_an_email", {"email": "not-an-email"}, {"email"}),
    # All or nothing: the valid change is not kept when the model refuses another field.
    ("valid_name_with_bad_email", {"family_name": "Changed", "email": "nope"}, {"email"}),
]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [(c, f) for _, c, f in PATCH_BAD_FIELDS],
    ids=[i for i, _, _ in PATCH_BAD_FIELDS],
)
def test_patch_with_a_bad_field_answers_422_naming_it_and_changes_nothing(
    clinic: Clinic, ada_api: Client, changes: dict[str, Any], fields: set[str]
) -> None:
    before = _snapshot()
    response = _patch(ada_api, clinic.quinn.pk, changes)
    _assert_field_problems(response, fields)
    assert _snapshot() == before
    assert not AuditEvent.objects.filter(action=Action.UPDATE, patient_id=clinic.quinn.pk).exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b, c, s) for _, b, c, s in BAD_BODIES],
    ids=[i for i, _, _, _ in BAD_BODIES],
)
def test_patch_with_a_body_that_is_not_a_json_object_answers_4xx_and_changes_nothing(
    clinic: Clinic, ada_api: Client, body: str, content_type: str, status: int
) -> None:
    before = _snapshot()
    response = ada_api.patch(f"{PATIENTS}/{clinic.quinn.pk}", body, content_type=content_type)
    assert response.status_code == status, response.content[:500]
    assert _snapshot() == before


@pytest.mark.parametrize(
    "patient_id", ["5f0c9a62-1d3e-4b7a-9c41-2e8d6f0b7a13", "not-a-uuid", "1", "%00"]
)
def test_patch_of_an_unknown_or_malformed_id_answers_404_and_changes_nothing(
    ada_api: Client, patient_id: str
) -> None:
    before = _snapshot()
    response = _patch(ada_api, patient_id, {"phone": "555-0111"})
    assert response.status_code == 404
    assert _snapshot() == before


# --- GET /api/v1/patients/{id} and GET /api/v1/patients?q= ----------------------------------


@pytest.mark.parametrize(
    "patient_id",
    ["not-a-uuid", "1", "' OR 1=1 --", "6dbf0e41-39d4-4199-b42c", "6dbf0e4139d44199b42c1f52"],
)
def test_get_with_a_malformed_id_answers_404(ada_api: Client, patient_id: str) -> None:
    before = _snapshot()
    response = ada_api.get(f"{PATIENTS}/{patient_id}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"
    assert _snapshot() == before


def test_get_with_an_unknown_id_answers_404_in_json(ada_api: Client) -> None:
    response = ada_api.get(f"{PATIENTS}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"


def test_get_with_a_known_id_answers_the_record(clinic: Clinic, ada_api: Client) -> None:
    response = ada_api.get(f"{PATIENTS}/{clinic.quinn.pk}")
    assert response.status_code == 200
    assert response.json()["mrn"] == clinic.quinn.mrn


@pytest.mark.parametrize(
    "q",
    [
        HUGE,
        "Zzz " * 20_000,
        "a\x00b",
        "%",
        "_",
        "' OR 1=1 --",
        "\\",
        "Q" * 101,
    ],
    ids=["100_kb", "many_words", "nul", "percent", "underscore", "sql", "backslash", "101_chars"],
)
def test_list_with_an_odd_or_huge_q_answers_200_and_stores_nothing(
    clinic: Clinic, ada_api: Client, q: str
) -> None:
    before = _snapshot()
    response = ada_api.get(PATIENTS, {"q": q})
    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)
    # Odd characters are plain text to search for, never wildcards.
    assert len(rows) == 0
    assert _snapshot() == before


def test_list_with_a_name_q_finds_the_patient(clinic: Clinic, ada_api: Client) -> None:
    response = ada_api.get(PATIENTS, {"q": "quinn"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [str(clinic.quinn.pk)]


def test_the_page_search_with_a_nul_or_huge_q_answers_200(clinic: Clinic) -> None:
    page = clinic.client("ada")
    for q in ("a\x00b", HUGE):
        response = page.post("/patients/", {"q": q})
        assert response.status_code == 200
        assert clinic.quinn.mrn not in response.content.decode()
