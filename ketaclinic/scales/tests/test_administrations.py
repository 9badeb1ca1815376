"""Entering rating scales through the API: refusals list every problem and store nothing;
stored totals are the pure scoring function's, for random complete responses."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Patient, SafetyFlag
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument
from ketaclinic.scales.models import Administration
from ketaclinic.scales.scoring import score
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic

AT = "2026-01-05T09:30:00+01:00"

SUMMED = sorted(
    code
    for code, instrument in instruments.load_builtin().items()
    if instrument.scoring.method == "sum"
)


def post_administration(client: Client, patient: Patient, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/patients/{patient.pk}/administrations",
        data=json.dumps(body),
        content_type="application/json",
    )


def fields(response: Any) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


def test_incomplete_phq9_lists_every_missing_item_and_stores_nothing(clinic: Clinic) -> None:
    answers = {"1": 1, "2": 2, "3": 0, "4": 1, "5": 0}
    response = post_administration(
        clinic.api("ben"),
        clinic.pat,
        {"instrument": "phq9", "answers": answers, "administered_at": AT},
    )

    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [p["field"] for p in problems] == ["answers.6", "answers.7", "answers.8", "answers.9"]
    assert {p["type"] for p in problems} == {"missing"}
    assert problems[0]["loc"] == ["body", "answers", "6"]
    assert not Administration.objects.exists()
    assert not SafetyFlag.objects.exists()
    assert not AuditEvent.objects.filter(object_type="Administration").exists()


def test_every_kind_of_problem_is_listed_at_once(clinic: Clinic) -> None:
    answers: dict[str, Any] = {str(n): 0 for n in range(1, 8)}
    answers.update({"1": 4, "2": "1", "3": True, "10": 0})  # 8 and 9 missing
    response = post_administration(
        clinic.api("ben"),
        clinic.pat,
        {"instrument": "phq9", "answers": answers, "administered_at": AT},
    )
    assert response.status_code == 422
    by_field = {p["field"]: p["type"] for p in response.json()["detail"]}
    assert by_field == {
        "answers.1": "invalid_value",
        "answers.2": "not_an_integer",
        "answers.3": "not_an_integer",
        "answers.10": "unknown_item",
        "answers.8": "missing",
        "answers.9": "missing",
    }
    assert not Administration.objects.exists()


def test_cssrs_skip_logic_refuses_items_it_skips(clinic: Clinic) -> None:
    answers = {"1": 0, "2": 0, "3": 1, "6": 0}
    response = post_administration(
        clinic.api("ada"),
        clinic.pat,
        {"instrument": "cssrs_screener", "answers": answers, "administered_at": AT},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "answers.3"
    assert response.json()["detail"][0]["type"] == "not_asked"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instrument": "phq10"}, "instrument"),
        ({"instrument": 9}, "instrument"),
        ({"administered_at": "2026-01-05T09:30:00"}, "administered_at"),
        ({"administered_at": "yesterday"}, "administered_at"),
        ({"administered_at": 1767600000}, "administered_at"),
        ({"administered_at": "2999-01-01T00:00:00Z"}, "administered_at"),
        ({"administered_at": "1950-01-01T00:00:00Z"}, "administered_at"),
        ({"mode": "telepathy"}, "mode"),
        ({"answers": [0, 0, 0]}, "answers"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_fields_are_refused_with_their_path(
    clinic: Clinic, change: dict[str, Any], field: str
) -> None:
    body = {
        "instrument": "phq9",
        "answers": {str(n): 0 for n in range(1, 10)},
        "administered_at": AT,
        **change,
    }
    response = post_administration(clinic.api("ben"), clinic.pat, body)
    assert response.status_code == 422, response.content
    assert fields(response) == [field]
    assert not Administration.objects.exists()


def test_administration_is_stored_audited_and_listed(clinic: Clinic) -> None:
    answers = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 1, "7": 0}
    response = post_administration(
        clinic.api("cleo"),
        clinic.pat,
        {"instrument": "gad7", "answers": answers, "administered_at": AT, "mode": "kiosk"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total"], body["band"], body["flags"]) == (12, "moderate", [])

    row = Administration.objects.get()
    assert row.entered_by == clinic.users["cleo"]
    assert row.mode == "kiosk"
    assert row.answers == answers
    assert row.administered_at.isoformat() == "2026-01-05T08:30:00+00:00"
    assert AuditEvent.objects.filter(
        action="C", object_type="Administration", object_id=str(row.pk), patient_id=clinic.pat.pk
    ).exists()

    listed = clinic.api("pat").get(f"/api/v1/patients/{clinic.pat.pk}/administrations")
    assert [a["id"] for a in listed.json()] == [str(row.pk)]
    assert AuditEvent.objects.filter(
        action="R", object_type="Administration", object_id=str(row.pk), actor=clinic.users["pat"]
    ).exists()


def test_administrations_list_filters_by_instrument_oldest_first(clinic: Clinic) -> None:
    now = timezone.now()
    for days, code in [(3, "gad7"), (1, "gad7"), (2, "phq9")]:
        instrument = instruments.get(code)
        administration_record(
            acting_user=clinic.users["ben"],
            patient=clinic.pat,
            instrument_code=code,
            answers={item.link_id: item.min_weight for item in instrument.items},
            administered_at=now - timedelta(days=days),
            mode="staff_entry",
        )
    client = clinic.api("ada")
    url = f"/api/v1/patients/{clinic.pat.pk}/administrations"
    gad7 = client.get(url, {"instrument": "gad7"}).json()
    assert [a["instrument"] for a in gad7] == ["gad7", "gad7"]
    assert gad7[0]["administered_at"] < gad7[1]["administered_at"]
    assert len(client.get(url).json()) == 3
    assert client.get(url, {"instrument": "nope"}).status_code == 422
    other = f"/api/v1/patients/{clinic.quinn.pk}/administrations"
    assert clinic.api("pat").get(other).status_code == 404


def test_patient_cannot_enter_scales(clinic: Clinic) -> None:
    body = {"instrument": "phq9", "answers": {str(n): 0 for n in range(1, 10)}}
    body["administered_at"] = AT
    assert post_administration(clinic.api("pat"), clinic.pat, body).status_code == 403
    assert post_administration(clinic.api("pat"), clinic.quinn, body).status_code == 404
    assert not Administration.objects.exists()


# --- totals: the API's total is the pure function's ------------------------------------------

RESPONSES_PER_INSTRUMENT = 1000
THROUGH_THE_API = 50  # the rest go through the service, which the API calls


def random_response(instrument: Instrument, rng: random.Random) -> dict[str, int]:
    """A complete response that follows the skip logic: each asked item gets a random weight."""
    answers: dict[str, int] = {}
    for item in instrument.items:
        if all(condition.holds(answers) for condition in item.enable_when):
            answers[item.link_id] = rng.choice(item.weights)
    return answers


def test_stored_total_is_the_pure_functions_for_random_responses(clinic: Clinic) -> None:
    """1,000 random complete responses per instrument with a total: 50 through the API, the
    rest through the service the API calls (all through HTTP would take a minute)."""
    administered_at = timezone.now() - timedelta(hours=1)
    client = clinic.api("ben")
    for code in SUMMED:
        instrument = instruments.get(code)
        rng = random.Random(f"totals-{code}")  # noqa: S311  reproducible test data, not secrets
        responses = [random_response(instrument, rng) for _ in range(RESPONSES_PER_INSTRUMENT)]

        for answers in responses[:THROUGH_THE_API]:
            expected = score(instrument, answers)
            assert expected.total == sum(answers.values()), code  # no prorating: a plain sum
            response = post_administration(
                client,
                clinic.pat,
                {"instrument": code, "answers": answers, "administered_at": AT},
            )
            assert response.status_code == 201, (code, response.content)
            body = response.json()
            assert (body["total"], body["band"] or None) == (expected.total, expected.band), code
            assert body["subscales"] == dict(expected.subscales), code

        for answers in responses[THROUGH_THE_API:]:
            row = administration_record(
                acting_user=clinic.users["ben"],
                patient=clinic.pat,
                instrument_code=code,
                answers=answers,
                administered_at=administered_at,
                mode="staff_entry",
            )
            expected = score(instrument, answers)
            assert expected.total == sum(answers.values()), code
            assert (row.total, row.band or None) == (expected.total, expected.band), code

        stored = Administration.objects.filter(patient=clinic.pat, instrument=code)
        assert stored.count() == RESPONSES_PER_INSTRUMENT, code
        for row in stored.iterator():
            assert row.total == score(instrument, row.answers).total, code
