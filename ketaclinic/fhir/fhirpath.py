"""FHIRPath evaluation for Questionnaire scoring expressions, with the maintained fhirpathpy.

SDC scoring expressions use three functions fhirpathpy does not ship: ``answers()`` (every
answer of a response, at any depth), and ``ordinal()`` / ``weight()`` (the weight of a chosen
answer). Before evaluating, the response is annotated: each answer's Coding gets an
``itemWeight`` extension with the weight its Questionnaire gives it, so these functions read
the weight from the Coding itself and never guess from the code.

Pure: no Django import.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fhirpathpy import evaluate as _evaluate
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models as _models
from fhirpathpy.parser import parse as _parse

ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
WEIGHT_URLS = frozenset({ORDINAL_VALUE, ITEM_WEIGHT})

_R4 = _models["r4"]


class ExpressionFailed(ValueError):
    """An expression that does not parse, fails to evaluate, or gives no single number."""


def _answers(inputs: list[Any]) -> list[Any]:
    found: list[Any] = []

    def walk(items: Sequence[Any]) -> None:
        for item in items:
            if not isinstance(item, dict):
                continue
            for answer in item.get("answer", []):
                # fhirpathpy's functions carry no annotations (the library is typed only at its
                # entry points): the ignores below are for that alone.
                node = ResourceNode.create_node(  # type: ignore[no-untyped-call]
                    answer, "QuestionnaireResponse.item.answer"
                )
                found.append(node)
                walk(answer.get("item", []))
            walk(item.get("item", []))

    for node in inputs:
        if isinstance(node, dict):
            walk(node.get("item", []))
    return found


def _weights(inputs: list[Any]) -> list[Any]:
    found: list[Any] = []
    for node in inputs:
        if not isinstance(node, dict):
            continue
        for extension in node.get("extension", []):
            if isinstance(extension, dict) and extension.get("url") in WEIGHT_URLS:
                value = extension.get("valueDecimal", extension.get("valueInteger"))
                if value is not None:
                    found.append(value)
    return found


_FUNCTIONS = {
    "answers": {"fn": _answers, "arity": {0: []}},
    "ordinal": {"fn": _weights, "arity": {0: []}},
    "weight": {"fn": _weights, "arity": {0: []}},
}


def evaluate(expression: str, resource: Mapping[str, Any], env: Mapping[str, Any]) -> list[Any]:
    """Evaluate ``expression`` on ``resource`` with the variables ``env`` (without the ``%``)."""
    try:
        return list(
            _evaluate(
                dict(resource),
                expression,
                {"resource": resource, "context": resource, **env},
                _R4,
                {"userInvocationTable": _FUNCTIONS},
            )
        )
    except Exception as exc:  # the library raises bare Exceptions for most failures
        raise ExpressionFailed(f"{type(exc).__name__}: {exc}"[:300]) from None


def evaluate_number(expression: str, resource: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
    """A single number (Decimal), or None when the expression gives nothing."""
    result = evaluate(expression, resource, env)
    if not result:
        return None
    if len(result) != 1:
        raise ExpressionFailed(f"gives {len(result)} values, not one number")
    value = result[0]
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ExpressionFailed(f"gives {value!r}, not a number")
    return Decimal(str(value))


def annotate_weights(
    response: Mapping[str, Any], weights: Mapping[tuple[str, int], Decimal]
) -> dict[str, Any]:
    """A copy of ``response`` whose answer Codings carry their weight as ``itemWeight``.

    ``weights`` maps (linkId, index of the answer) to the weight of the chosen option.
    """
    annotated = copy.deepcopy(dict(response))

    def walk(items: list[Any]) -> None:
        for item in items:
            for index, answer in enumerate(item.get("answer", [])):
                weight = weights.get((item.get("linkId", ""), index))
                coding = answer.get("valueCoding")
                if weight is not None and isinstance(coding, dict):
                    coding["extension"] = [
                        *[
                            e
                            for e in coding.get("extension", [])
                            if e.get("url") not in WEIGHT_URLS
                        ],
                        {"url": ITEM_WEIGHT, "valueDecimal": weight},
                    ]
                walk(answer.get("item", []))
            walk(item.get("item", []))

    walk(annotated.get("item", []))
    return annotated


def lint(expression: str) -> list[str]:
    """Mistakes in an expression that evaluate without error but mean something else.

    FHIRPath's ``|`` (union) binds tighter than ``=``/``!=``, so ``linkId != 'a' | linkId !=
    'b'`` compares linkId with a collection and filters nothing.
    """
    try:
        tree = _parse(expression)  # type: ignore[no-untyped-call]
    except Exception as exc:  # the ANTLR parser raises bare Exceptions
        return [f"does not parse: {exc}"[:300]]
    problems: list[str] = []

    def walk(node: Mapping[str, Any]) -> None:
        if node.get("type") == "EqualityExpression":
            operator = "".join(node.get("terminalNodeText") or [])
            for child in node.get("children", []):
                if child.get("type") == "UnionExpression":
                    problems.append(
                        f"'{operator}' compares with the union ({child.get('text')}): in "
                        "FHIRPath '|' binds tighter than '=' and '!=', so this condition does "
                        "not test what it seems to (write 'and'/'or' between comparisons)"
                    )
        for child in node.get("children", []):
            walk(child)

    walk(tree)
    return problems
