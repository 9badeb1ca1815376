"""Shared helpers for the FHIR tests: posting FHIR JSON, building responses, the fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from ketaclinic.fhir.questionnaire import builtin_url
from ketaclinic.scales import instruments

FHIR = "application/fhir+json"
# The public FHIR fixtures live beside the repository (../shared), not in a fresh clone.
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "fhir"


def fixture(relative: str) -> dict[str, Any]:
    path = FIXTURES / relative
    if not path.is_file():
        pytest.skip(f"public FHIR fixture {relative} is absent (../shared/fixtures is not here)")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def post(client: Client, path: str, body: Any, content_type: str = FHIR) -> Any:
    return client.post(f"/fhir/R4/{path}", data=json.dumps(body), content_type=content_type)


def response_body(
    code: str, patient_id: Any, weights: list[int], *, integer: bool = False
) -> dict[str, Any]:
    """A completed response to the built-in ``code`` with these weights, item by item."""
    instrument = instruments.get(code)
    items = []
    for item, weight in zip(instrument.items, weights, strict=True):
        option = next(o for o in item.options if o.weight == weight)
        if integer or option.loinc is None:
            answer: dict[str, Any] = {"valueInteger": weight}
        else:
            answer = {"valueCoding": {"system": "http://loinc.org", "code": option.loinc}}
        items.append({"linkId": item.link_id, "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": builtin_url(code),
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": "2026-01-05T09:30:00+01:00",
        "item": items,
    }


def issues(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    found: list[dict[str, Any]] = body["issue"]
    return found


def valid(model: Any, content: bytes) -> dict[str, Any]:
    """The resource's JSON, after checking that it validates with the R4B ``model``."""
    model.model_validate_json(content)
    data: dict[str, Any] = json.loads(content)
    return data
