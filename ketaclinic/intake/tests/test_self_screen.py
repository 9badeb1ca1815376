"""Self-screens kept with inquiries: scored by the scales' scoring (never trusting a posted
total), strict API input with field paths, a signed token that refuses changes and age, and
the staff list showing the scores with a warning for PHQ-9 item 9."""

from __future__ import annotations

import json
import time
from typing import Any, get_args

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client

from ketaclinic.intake import services
from ketaclinic.intake.models import Inquiry
from ketaclinic.intake.schemas import SelfScreenCode
from ketaclinic.intake.self_screen import (
    SELF_SCREEN_CODES,
    SelfScreenInvalid,
    self_screen_record_problems,
    self_screen_score,
    self_screen_score_all,
)
from ketaclinic.intake.self_screen.token import (
    TokenExpired,
    TokenInvalid,
    self_screen_token_make,
    self_screen_token_read,
)
from ketaclinic.scales.scoring import ResponseInvalid
from ketaclinic.testing import Clinic

INQUIRIES = "/api/v1/inquiries"
CONTACT: dict[str, Any] = {
    "name": "Robin Screened",
    "email": "robin@example.org",
    "consent_to_contact": True,
}
GAD7_12 = {"1": 3, "2": 3, "3": 3, "4": 3, "5": 0, "6": 0, "7": 0}
PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 2}


def _post(body: Any) -> Any:
    return Client().post(INQUIRIES, data=json.dumps(body), content_type="application/json")


def _problems(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.content[:500]
    return {problem["field"]: problem["msg"] for problem in response.json()["detail"]}


# --- pure ----------------------------------------------------------------------------------


def test_the_api_literal_names_the_self_screen_codes() -> None:
    assert get_args(SelfScreenCode) == SELF_SCREEN_CODES


def test_a_score_becomes_a_record_with_the_item_9_flag_only_for_phq9() -> None:
    gad7 = self_screen_score("gad7", GAD7_12)
    assert gad7.as_record() == {
        "instrument": "gad7",
        "answers": GAD7_12,
        "total": 12,
        "band": "moderate",
    }
    assert gad7.item9_positive is None
    phq9 = self_screen_score("phq9", PHQ9_ITEM9)
    assert phq9.as_record()["item9_positive"] is True
    assert phq9.urgent_flags and phq9.urgent_flags[0].code == "suicide_risk"
    assert self_screen_score("phq9", {**PHQ9_ITEM9, "9": 0}).as_record()["item9_positive"] is False


def test_other_instruments_are_not_self_screens() -> None:
    with pytest.raises(KeyError):
        self_screen_score("hama", {})


def test_an_incomplete_response_is_refused_with_its_missing_items() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        self_screen_score("gad7", {"1": 1, "2": 1})
    assert caught.value.missing == ("3", "4", "5", "6", "7")


def test_score_all_reports_every_problem_by_path() -> None:
    with pytest.raises(SelfScreenInvalid) as caught:
        self_screen_score_all(
            [
                {"instrument": "gad7", "answers": {**GAD7_12, "1": 4}},
                {"instrument": "gad7", "answers": GAD7_12},
                {"instrument": "ybocs", "answers": {}},
                {"instrument": "phq9", "answers": [1, 2]},
            ]
        )
    assert caught.value.problems == {
        "0.answers.1": "4 is not one of the answers (0, 1, 2, 3)",
        "1.instrument": "gad7 is listed twice",
        "2.instrument": "must be one of gad7, phq9",
        "3.answers": "must be an object of item: answer",
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"note": "x"}, "0: unknown keys note"),
        ({"instrument": "hama"}, "0.instrument: must be one of gad7, phq9"),
        ({"answers": {"1": "3"}}, "0.answers: must be an object of item: answer"),
        ({"answers": {"1": True}}, "0.answers: must be an object of item: answer"),
        ({"total": "12"}, "0.total: must be an integer"),
        ({"band": None}, "0.band: must be text"),
        ({"item9_positive": "yes"}, "0.item9_positive: must be true or false"),
    ],
)
def test_a_stored_record_must_have_the_record_shape(change: dict[str, Any], problem: str) -> None:
    record = self_screen_score("gad7", GAD7_12).as_record()
    assert self_screen_record_problems([record]) == []
    assert self_screen_record_problems([{**record, **change}]) == [problem]
    inquiry = Inquiry(**CONTACT, self_screen=[{**record, **change}])
    with pytest.raises(ValidationError) as caught:
        inquiry.full_clean()
    assert "self_screen" in caught.value.message_dict


def test_a_stored_record_needs_its_keys_and_the_field_a_list() -> None:
    assert self_screen_record_problems("gad7") == ["must be a list"]
    assert self_screen_record_problems([1]) == ["0: must be an object"]
    problems = self_screen_record_problems([{"instrument": "gad7", "answers": {}}])
    assert problems[0] == "0: missing band, total"


# --- the token -----------------------------------------------------------------------------


def test_a_token_round_trips_answers_and_rescoring() -> None:
    results = [self_screen_score("gad7", GAD7_12), self_screen_score("phq9", PHQ9_ITEM9)]
    token = self_screen_token_make(results)
    read = self_screen_token_read(token)
    # The token also says when the person answered (issue 12.4); the scores are the same.
    assert all(r.taken_at is not None for r in read)
    assert [r.as_record() | {"taken_at": None} for r in read] == [
        r.as_record() | {"taken_at": None} for r in results
    ]
    assert "total" not in json.dumps(signing.loads(token, salt="ketaclinic.site.self_screen"))


def test_a_changed_token_is_invalid() -> None:
    token = self_screen_token_make([self_screen_score("gad7", GAD7_12)])
    data, _, signature = token.rpartition(":")
    with pytest.raises(TokenInvalid):
        self_screen_token_read(f"{data}:{signature[::-1]}")
    with pytest.raises(TokenInvalid):
        self_screen_token_read(signing.dumps({"v": 1, "screens": []}))  # no salt


def test_a_token_older_than_two_hours_is_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    with monkeypatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: now - 7200 + 60)
        fresh = self_screen_token_make([self_screen_score("gad7", GAD7_12)])
        patch.setattr("django.core.signing.time.time", lambda: now - 7200 - 60)
        old = self_screen_token_make([self_screen_score("gad7", GAD7_12)])
    assert len(self_screen_token_read(fresh)) == 1
    with pytest.raises(TokenExpired):
        self_screen_token_read(old)


# --- the service and the API ---------------------------------------------------------------


def test_the_service_scores_the_answers_itself(db: Any) -> None:
    inquiry = services.inquiry_create(
        client_address="192.0.2.9",
        **CONTACT,
        self_screen=[{"instrument": "phq9", "answers": PHQ9_ITEM9, "total": 0, "band": "x"}],
    )
    assert inquiry.self_screen == [
        {
            "instrument": "phq9",
            "answers": PHQ9_ITEM9,
            "total": 6,
            "band": "mild",
            "item9_positive": True,
        }
    ]


def test_the_service_reports_self_screen_and_field_problems_together(db: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.inquiry_create(
            client_address="192.0.2.9",
            name="No Contact",
            consent_to_contact=True,
            self_screen=[{"instrument": "gad7", "answers": {"1": 1}}],
        )
    fields = set(caught.value.message_dict)
    assert {"email", "self_screen.0.answers.2", "self_screen.0.answers.7"} <= fields
    assert Inquiry.objects.count() == 0


def test_api_inquiry_with_self_screen_is_stored_rescored(db: Any) -> None:
    response = _post(
        {
            **CONTACT,
            "self_screen": [
                {"instrument": "gad7", "answers": GAD7_12},
                {"instrument": "phq9", "answers": PHQ9_ITEM9},
            ],
        }
    )
    assert response.status_code == 201, response.content
    assert Inquiry.objects.get().self_screen == [
        {"instrument": "gad7", "answers": GAD7_12, "total": 12, "band": "moderate"},
        {
            "instrument": "phq9",
            "answers": PHQ9_ITEM9,
            "total": 6,
            "band": "mild",
            "item9_positive": True,
        },
    ]


def test_api_inquiry_without_self_screen_stores_an_empty_list(db: Any) -> None:
    assert _post(CONTACT).status_code == 201
    assert Inquiry.objects.get().self_screen == []


@pytest.mark.parametrize(
    ("self_screen", "field"),
    [
        ([{"instrument": "gad7", "answers": {"1": 1}}], "self_screen.0.answers.2"),
        ([{"instrument": "gad7", "answers": {**GAD7_12, "1": 4}}], "self_screen.0.answers.1"),
        ([{"instrument": "gad7", "answers": {**GAD7_12, "8": 0}}], "self_screen.0.answers.8"),
        ([{"instrument": "gad7", "answers": {**GAD7_12, "1": "3"}}], "self_screen.0.answers.1"),
        ([{"instrument": "gad7", "answers": {**GAD7_12, "1": True}}], "self_screen.0.answers.1"),
        ([{"instrument": "gad7", "answers": {**GAD7_12, "1": 1.0}}], "self_screen.0.answers.1"),
        ([{"instrument": "hama", "answers": GAD7_12}], "self_screen.0.instrument"),
        ([{"instrument": "gad7", "answers": GAD7_12, "total": 21}], "self_screen.0.total"),
        ([{"instrument": "gad7"}], "self_screen.0.answers"),
        ([{"instrument": "gad7", "answers": [3, 3]}], "self_screen.0.answers"),
        ([{"instrument": "gad7", "answers": GAD7_12}] * 2, "self_screen"),
        ([{"instrument": "gad7", "answers": GAD7_12}] * 3, "self_screen"),
        ({"instrument": "gad7", "answers": GAD7_12}, "self_screen"),
        (
            [
                {"instrument": "gad7", "answers": GAD7_12},
                {"instrument": "phq9", "answers": {**PHQ9_ITEM9, "9": -1}},
            ],
            "self_screen.1.answers.9",
        ),
    ],
)
def test_api_bad_self_screen_is_422_with_its_field_path(
    db: Any, self_screen: Any, field: str
) -> None:
    problems = _problems(_post({**CONTACT, "self_screen": self_screen}))
    assert field in problems, problems
    assert Inquiry.objects.count() == 0


def test_api_missing_items_are_each_listed(db: Any) -> None:
    answers = {k: v for k, v in PHQ9_ITEM9.items() if k not in {"4", "9"}}
    problems = _problems(
        _post({**CONTACT, "self_screen": [{"instrument": "phq9", "answers": answers}]})
    )
    assert problems == {
        "self_screen.0.answers.4": "is not answered",
        "self_screen.0.answers.9": "is not answered",
    }


# --- the staff list ------------------------------------------------------------------------


def test_staff_list_shows_scores_and_warns_of_item_9(clinic: Clinic) -> None:
    services.inquiry_create(
        client_address="192.0.2.10",
        **{**CONTACT, "name": "Flagged Asker"},
        self_screen=[
            {"instrument": "gad7", "answers": GAD7_12},
            {"instrument": "phq9", "answers": PHQ9_ITEM9},
        ],
    )
    services.inquiry_create(
        client_address="192.0.2.11",
        **{**CONTACT, "name": "Calm Asker"},
        self_screen=[{"instrument": "phq9", "answers": {**PHQ9_ITEM9, "9": 0}}],
    )
    services.inquiry_create(client_address="192.0.2.12", **{**CONTACT, "name": "Plain Asker"})
    html = clinic.client("cleo").get("/intake/inquiries/").content.decode()
    # each inquiry is a card on the board, in its status column
    rows = {
        name: html[html.index(name) :].split("</li>")[0] for name in ("Flagged", "Calm", "Plain")
    }
    assert "GAD-7 12/21 (moderate)" in rows["Flagged"]
    assert "PHQ-9 6/27 (mild)" in rows["Flagged"]
    assert "PHQ-9 item 9 above 0" in rows["Flagged"]
    assert "PHQ-9 4/27 (none to minimal)" in rows["Calm"]
    assert "item 9" not in rows["Calm"]
    assert "Self-screen" not in rows["Plain"]
    assert "item 9" not in rows["Plain"]
