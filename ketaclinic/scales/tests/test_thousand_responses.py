"""1,000 random complete responses per built-in instrument score the same through every way in:
the pure ``scoring.score``, the staff web form (the keying-in page), the JSON API that records an
administration, and FHIR (POST QuestionnaireResponse, then GET the score's Observation).

Copyrighted instruments ship without item text; their items are keyed in by number on the same
form, so every built-in instrument goes through all four paths. Skip logic (C-SSRS) is honoured:
an item is answered only when its ``enableWhen`` holds. Answer sets are seeded, so a failure
names a reproducible set.

The database-backed paths share one test per instrument (one transaction, one patient, logged-in
clients reused): each answer set is posted once to each path and the stored results are compared
with the pure function's at the end.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.questionnaire import builtin_url
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.fhir.tests.helpers import post
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument
from ketaclinic.scales.models import Administration
from ketaclinic.scales.scoring import ScoreResult, score
from ketaclinic.testing import Clinic

from .test_web_entry import enter_url, form_data, when

ANSWER_SETS = 1000
AT = "2026-01-05T09:30:00+01:00"


def complete_answers(instrument: Instrument, rng: random.Random) -> dict[str, int]:
    """A random complete response: every item the skip logic asks, none that it skips."""
    answers: dict[str, int] = {}
    for item in instrument.items:
        if all(condition.holds(answers) for condition in item.enable_when):
            answers[item.link_id] = rng.choice(item.weights)
    return answers


def answer_sets(code: str) -> list[dict[str, int]]:
    rng = random.Random(f"{code}-thousand")  # noqa: S311  reproducible test data, not secrets
    return [complete_answers(instruments.get(code), rng) for _ in range(ANSWER_SETS)]


@dataclass(frozen=True)
class Scored:
    """What every path must agree on."""

    total: int | None
    subscales: dict[str, int]
    band: str
    risk_level: str

    @classmethod
    def of(cls, result: ScoreResult) -> Scored:
        return cls(result.total, dict(result.subscales), result.band or "", result.risk_level or "")

    @classmethod
    def of_row(cls, row: Administration | Mapping[str, Any]) -> Scored:
        data: Mapping[str, Any] = (
            row
            if isinstance(row, Mapping)
            else {
                "total": row.total,
                "subscales": row.subscales,
                "band": row.band,
                "risk_level": row.risk_level,
            }
        )
        return cls(data["total"], dict(data["subscales"]), data["band"], data["risk_level"])


def scored_observation(instrument: Instrument, observation: Mapping[str, Any]) -> Scored:
    """The total, subscales and band (or risk level) an Observation carries."""
    components = {
        component["code"]["text"]: component["valueInteger"]
        for component in observation.get("component", [])
    }
    interpretation = observation.get("interpretation", [{}])[0].get("text", "")
    if instrument.scoring.method == "risk_level":
        return Scored(None, components, "", observation["valueCodeableConcept"]["text"])
    return Scored(observation["valueInteger"], components, interpretation, "")


# --- the pure function, against an independent reading of the definition -------------------


@pytest.mark.parametrize("code", instruments.BUILTIN_CODES)
def test_the_pure_function_scores_a_thousand_responses_as_the_definition_reads(code: str) -> None:
    instrument = instruments.get(code)
    for answers in answer_sets(code):
        result = score(instrument, answers)
        assert not result.prorated and result.missing == ()
        if instrument.scoring.method != "sum":
            assert result.total is None and result.risk_level is not None
            continue
        total = sum(answers.values())
        assert result.total == total, answers
        assert result.subscales == {
            sub.name: sum(answers[link_id] for link_id in sub.link_ids)
            for sub in instrument.subscales
        }
        bands = [band.label for band in instrument.bands if band.low <= total <= band.high]
        assert result.band == (bands[0] if bands else None), answers


def test_the_answer_sets_cover_every_answer_and_the_skip_logic() -> None:
    for code in instruments.BUILTIN_CODES:
        instrument = instruments.get(code)
        seen = {item.link_id: set[int]() for item in instrument.items}
        for answers in answer_sets(code):
            for link_id, weight in answers.items():
                seen[link_id].add(weight)
        assert all(seen[item.link_id] == set(item.weights) for item in instrument.items), code
    cssrs = answer_sets("cssrs_screener")
    assert any("3" in answers for answers in cssrs)
    assert any("3" not in answers for answers in cssrs)


# --- the web form, the JSON API and FHIR -----------------------------------------------------


def _api_post(client: Client, patient_id: Any, code: str, answers: dict[str, int]) -> Any:
    body = {"instrument": code, "answers": answers, "administered_at": AT, "mode": "staff_entry"}
    return client.post(
        f"/api/v1/patients/{patient_id}/administrations",
        data=json.dumps(body),
        content_type="application/json",
    )


def fhir_response(
    instrument: Instrument, patient_id: Any, answers: dict[str, int], *, coded: bool
) -> dict[str, Any]:
    """A completed QuestionnaireResponse to the built-in Questionnaire, skipped items left out.
    Answers are LOINC codings where the option has one and ``coded``, else the weight."""
    items = []
    for item in instrument.items:
        if item.link_id not in answers:
            continue
        option = next(o for o in item.options if o.weight == answers[item.link_id])
        answer: dict[str, Any] = (
            {"valueCoding": {"system": LOINC, "code": option.loinc}}
            if coded and option.loinc
            else {"valueInteger": option.weight}
        )
        items.append({"linkId": item.link_id, "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": builtin_url(instrument.code),
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": AT,
        "item": items,
    }


@pytest.mark.thousand
@pytest.mark.parametrize("code", instruments.BUILTIN_CODES)
def test_a_thousand_responses_score_the_same_through_form_api_and_fhir(
    clinic: Clinic, code: str
) -> None:
    instrument = instruments.get(code)
    patient = clinic.pat
    web = clinic.client("ben")  # Nurse Ben keys in on the form
    api = clinic.api("ada")  # Dr Ada's client posts JSON
    fhir = clinic.api("cleo")  # the intake coordinator's system speaks FHIR
    reader = clinic.api("dana")
    entered_at = when()
    expected: list[Scored] = []
    api_results: list[Scored] = []
    response_ids: list[str] = []

    for answers in answer_sets(code):
        expected.append(Scored.of(score(instrument, answers)))

        form = web.post(
            enter_url(clinic, code), form_data(instrument, answers, administered_at=entered_at)
        )
        assert form.status_code == 302, (answers, form.content[:300])
        # The redirect is not followed, so its "recorded" message is never shown: drop it, or
        # 1,000 of them pile up in the cookie (then the session) and slow every request.
        web.cookies.pop("messages", None)

        created = _api_post(api, patient.pk, code, answers)
        assert created.status_code == 201, (answers, created.content[:300])
        api_results.append(Scored.of_row(created.json()))

        body = fhir_response(instrument, patient.pk, answers, coded=len(expected) % 2 == 0)
        stored = post(fhir, "QuestionnaireResponse", body)
        assert stored.status_code == 201, (answers, stored.content[:300])
        response_ids.append(stored.json()["id"])

    web_rows = Administration.objects.filter(
        patient=patient, entered_by=clinic.users["ben"]
    ).order_by("created_at")
    assert [Scored.of_row(row) for row in web_rows] == expected
    assert api_results == expected

    observation_of = dict(
        StoredResource.objects.filter(
            resource_type="Observation",
            administration__in=StoredResource.objects.filter(
                resource_type="QuestionnaireResponse", resource_id__in=response_ids
            ).values("administration"),
        ).values_list("administration_id", "resource_id")
    )
    administration_of = dict(
        StoredResource.objects.filter(
            resource_type="QuestionnaireResponse", resource_id__in=response_ids
        ).values_list("resource_id", "administration_id")
    )
    fhir_results = []
    for response_id in response_ids:
        observation_id = observation_of[administration_of[response_id]]
        read = reader.get(f"/fhir/R4/Observation/{observation_id}")
        assert read.status_code == 200, read.content[:300]
        fhir_results.append(scored_observation(instrument, read.json()))
    assert fhir_results == expected
