"""FHIRPath scoring expressions: evaluated with fhirpathpy, answer weights read from the
Questionnaire, and expressions that disagree with the built-in refused at import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.fhir import fhirpath
from ketaclinic.testing import Clinic

from .helpers import fixture, issues, post


def test_answers_and_ordinal_sum_the_annotated_weights() -> None:
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "item": [
            {"linkId": "g", "item": [{"linkId": "a", "answer": [{"valueCoding": {"code": "x"}}]}]},
            {"linkId": "b", "answer": [{"valueCoding": {"code": "y"}}]},
        ],
    }
    annotated = fhirpath.annotate_weights(response, {("a", 0): Decimal(2), ("b", 0): Decimal(3)})
    assert "extension" not in response["item"][1]["answer"][0]["valueCoding"]  # a copy
    total = fhirpath.evaluate_number("%resource.answers().value.ordinal().sum()", annotated, {})
    assert total == 5


def test_failures_are_expression_failed_not_crashes() -> None:
    with pytest.raises(fhirpath.ExpressionFailed):
        fhirpath.evaluate("item.where(", {"resourceType": "QuestionnaireResponse"}, {})
    with pytest.raises(fhirpath.ExpressionFailed):
        fhirpath.evaluate_number("'text'", {"resourceType": "QuestionnaireResponse"}, {})


@pytest.mark.parametrize(
    ("expression", "problems"),
    [
        ("item.where(linkId != 'a' | linkId != 'b')", 1),
        ("item.where(linkId != 'a' and linkId != 'b')", 0),
        ("(item | item).count() = 2", 0),  # parentheses: meant as written
    ],
)
def test_lint_finds_union_precedence_mistakes(expression: str, problems: int) -> None:
    assert len(fhirpath.lint(expression)) == problems


def test_an_expression_that_disagrees_with_the_builtin_is_refused(clinic: Clinic) -> None:
    definition = fixture("questionnaires/gad7-mii.json")
    for extension in definition["extension"]:
        if "valueExpression" in extension:
            extension["valueExpression"]["expression"] += " + 1"
    response = post(clinic.api("dana"), "Questionnaire", definition)
    assert response.status_code == 422
    found = issues(response)
    assert len(found) == 1
    assert "gives 1, but the answers' weights give 0" in found[0]["diagnostics"]
    assert found[0]["expression"] == ["Questionnaire.item[8].extension[0].valueExpression"]
