"""Baseline scores of an evaluation are whole numbers within their instrument's total range
(issue 12, item 10): the range comes from the instrument definitions of the scales app; a score
outside it, or a fraction, is refused on the page (422, the error beside the field) and through
the API (422 with the field path), and nothing is stored."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ketaclinic.eligibility.baseline_scores import (
    baseline_score_instruments,
    baseline_scores_problems,
)
from ketaclinic.eligibility.forms import BASELINE_SCALES
from ketaclinic.eligibility.models import Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import (
    ELIGIBLE_EVALUATION,
    post_json,
)
from ketaclinic.eligibility.tests.test_evaluation_pages import eligible_form
from ketaclinic.scales import instruments
from ketaclinic.testing import Clinic

# Every instrument the evaluation takes a baseline score of, with its total range from the data.
RANGES = {
    code: (instrument.scoring.min_total, instrument.scoring.max_total)
    for code, instrument in baseline_score_instruments().items()
}
PAGE_CODES = [code for code, _ in BASELINE_SCALES]


def _bad_values(code: str) -> list[object]:
    low, high = RANGES[code]
    assert low is not None and high is not None
    return [low - 1, high + 1, low + 0.5, high - 0.5, 1000, True, "7"]


BAD = [(code, value) for code in RANGES for value in _bad_values(code)]
GOOD = [(code, value) for code, (low, high) in RANGES.items() for value in (low, high)]


def _id(value: object) -> str:
    return re.sub(r"\W", "_", repr(value))


def test_the_ranges_are_the_published_ones() -> None:
    # Spitzer 2006 (GAD-7), Kroenke 2001 (PHQ-9), Hamilton 1959 (HAM-A): scales.md.
    assert RANGES["gad7"] == (0, 21)
    assert RANGES["phq9"] == (0, 27)
    assert RANGES["hama"] == (0, 56)
    assert set(PAGE_CODES) <= set(RANGES)
    # Every built-in instrument with a total is taken; a risk-level screener has no score.
    with_total = {
        code
        for code, instrument in instruments.load_builtin().items()
        if instrument.scoring.max_total is not None
    }
    assert set(RANGES) == with_total
    assert "cssrs_screener" not in RANGES


# --- the pure check ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "value"), GOOD, ids=[f"{c}-{v}" for c, v in GOOD])
def test_the_range_limits_are_accepted(code: str, value: int) -> None:
    assert baseline_scores_problems({code: value}) == {}


@pytest.mark.parametrize(("code", "value"), BAD, ids=[f"{c}-{_id(v)}" for c, v in BAD])
def test_a_score_outside_the_range_or_not_whole_is_refused(code: str, value: object) -> None:
    problems = baseline_scores_problems({code: value})
    assert list(problems) == [f"baseline_scores.{code}"]
    low, high = RANGES[code]
    assert f"from {low} to {high}" in problems[f"baseline_scores.{code}"][0]


def test_an_unknown_instrument_or_a_non_object_is_refused() -> None:
    assert list(baseline_scores_problems({"madrs": 20})) == ["baseline_scores.madrs"]
    assert "gad7" in baseline_scores_problems({"madrs": 20})["baseline_scores.madrs"][0]
    assert list(baseline_scores_problems({"cssrs_screener": 1})) == [
        "baseline_scores.cssrs_screener"
    ]
    assert list(baseline_scores_problems({"GAD 7!": 3})) == ["baseline_scores"]
    assert list(baseline_scores_problems([17])) == ["baseline_scores"]


# --- the API ----------------------------------------------------------------------------------


def _url(clinic: Clinic) -> str:
    return f"/api/v1/patients/{clinic.pat.pk}/evaluations"


@pytest.mark.parametrize("code", list(RANGES))
def test_the_api_refuses_a_bad_score_with_its_path_and_stores_nothing(
    clinic: Clinic, code: str
) -> None:
    client = clinic.api("ada")
    for value in _bad_values(code):
        body = ELIGIBLE_EVALUATION | {"baseline_scores": {"gad7": 17, code: value}}
        if code == "gad7":
            body = ELIGIBLE_EVALUATION | {"baseline_scores": {code: value}}
        response = post_json(client, _url(clinic), body)
        assert response.status_code == 422, (value, response.content)
        fields = [problem["field"] for problem in response.json()["detail"]]
        assert fields == [f"baseline_scores.{code}"], value
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("value", [99, -5, 12.5], ids=["gad7_99", "gad7_minus5", "gad7_12.5"])
def test_the_issue_examples_are_refused_through_the_api(clinic: Clinic, value: object) -> None:
    body = ELIGIBLE_EVALUATION | {"baseline_scores": {"gad7": value}}
    response = post_json(clinic.api("ada"), _url(clinic), body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "baseline_scores.gad7"
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("code", list(RANGES))
def test_the_api_stores_scores_at_the_range_limits(clinic: Clinic, code: str) -> None:
    low, high = RANGES[code]
    for value in (low, high):
        body = ELIGIBLE_EVALUATION | {"baseline_scores": {code: value}}
        response = post_json(clinic.api("ada"), _url(clinic), body)
        assert response.status_code == 201, response.content
        assert response.json()["evaluation"]["baseline_scores"] == {code: value}


# --- the page ---------------------------------------------------------------------------------


def _new_url(clinic: Clinic) -> str:
    return f"/intake/patients/{clinic.pat.pk}/evaluations/new/"


def _page_bad_values(code: str) -> list[str]:
    low, high = RANGES[code]
    assert low is not None and high is not None
    return [str(low - 1), str(high + 1), "12.5", "1000"]


@pytest.mark.parametrize("code", PAGE_CODES)
def test_the_page_refuses_a_bad_score_beside_the_field_and_stores_nothing(
    clinic: Clinic, code: str
) -> None:
    client = clinic.client("ada")
    low, high = RANGES[code]
    for value in _page_bad_values(code):
        response = client.post(_new_url(clinic), eligible_form() | {code: value})
        assert response.status_code == 422, value
        html = response.content.decode()
        pattern = rf'<ul class="errorlist" id="id_{code}_errors"[^>]*>(.*?)</ul>'
        errors = re.search(pattern, html, re.S)
        assert errors is not None, f"no error beside {code} for {value}"
        assert f"{low} to {high}" in errors.group(1), value
        assert "Nothing was stored" in html
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("code", PAGE_CODES)
def test_the_page_stores_scores_at_the_range_limits(clinic: Clinic, code: str) -> None:
    client = clinic.client("ada")
    for value in RANGES[code]:
        form: dict[str, Any] = eligible_form() | {"gad7": "", "hama": "", code: str(value)}
        response = client.post(_new_url(clinic), form)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert Evaluation.objects.latest("pk").input_json["baseline_scores"] == {code: value}


def test_the_page_shows_each_range_and_gives_the_browser_its_limits(clinic: Clinic) -> None:
    html = clinic.client("ada").get(_new_url(clinic)).content.decode()
    for code in PAGE_CODES:
        low, high = RANGES[code]
        field = re.search(rf'<input[^>]*name="{code}"[^>]*>', html)
        assert field is not None
        assert f'min="{low}"' in field.group(0) and f'max="{high}"' in field.group(0)
