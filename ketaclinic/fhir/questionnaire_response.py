"""Reading a QuestionnaireResponse against the scoring plan of its Questionnaire.

``response_read`` checks every answer (linkId known, answer one of the options, one answer
unless the item repeats) and turns the scored ones into ``{instrument link_id: weight}``;
``calculations_check`` evaluates the Questionnaire's FHIRPath score expressions on the response
and compares them with the built-in score and with any total the response states. Every
problem is an ``Issue`` whose expression is the linkId path. Pure: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ketaclinic.fhir import fhirpath
from ketaclinic.fhir.outcome import Issue, IssueCode
from ketaclinic.fhir.scoring_plan import Option, Plan, PlanItem, item_path
from ketaclinic.scales.scoring import ResponseInvalid, ScoreResult, score

ROOT = "QuestionnaireResponse"


@dataclass
class ReadResponse:
    answers: dict[str, int] = field(default_factory=dict)
    weights: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    stated: dict[str, tuple[Decimal, str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    result: ScoreResult | None = None


def _path(parents: Sequence[str], link_id: str) -> str:
    return ROOT + "".join(f".item.where(linkId='{p}')" for p in (*parents, link_id))


def _coding_text(coding: Mapping[str, Any]) -> str:
    system = coding.get("system")
    return f"{system}|{coding.get('code')}" if system else f"{coding.get('code')}"


def _match(item: PlanItem, answer: Mapping[str, Any]) -> tuple[Option | None, str]:
    coding = answer.get("valueCoding")
    if isinstance(coding, dict):
        code, system = coding.get("code"), coding.get("system")
        found = [
            o for o in item.options if o.code == code and (system is None or o.system == system)
        ]
        return (found[0] if len(found) == 1 else None), f"the coding {_coding_text(coding)}"
    value = answer.get("valueInteger")
    if isinstance(value, int) and not isinstance(value, bool):
        for option in item.options:
            if option.integer == value or (option.integer is None and option.weight == value):
                return option, f"the integer {value}"
        return None, f"the integer {value}"
    kinds = [key for key in answer if key.startswith("value")]
    return None, "an answer of type " + (", ".join(kinds) or "none")


def _allowed(item: PlanItem) -> str:
    shown = []
    for option in item.options:
        if option.code is not None:
            shown.append(f"{option.code} ({option.display or option.weight})")
        elif option.integer is not None:
            shown.append(str(option.integer))
    if item.weighted:
        weights = sorted({o.weight for o in item.options if o.weight is not None})
        shown.append("or an integer weight " + "/".join(str(w) for w in weights))
    return ", ".join(shown)


def _stated(answer: Mapping[str, Any]) -> Decimal | None:
    for key in ("valueDecimal", "valueInteger"):
        value = answer.get(key)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return Decimal(str(value))
    quantity = answer.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float | Decimal):
        return Decimal(str(quantity["value"]))
    return None


def response_read(plan: Plan, response: Mapping[str, Any]) -> ReadResponse:
    """Check the answers and score them with the built-in instrument (every problem listed)."""
    read = ReadResponse()
    seen: dict[str, str] = {}
    scored_at: dict[str, str] = {}

    def walk(items: Sequence[Any], parents: tuple[str, ...]) -> None:
        for raw in items:
            link_id = str(raw.get("linkId", ""))
            where = _path(parents, link_id)
            item = plan.items.get(link_id)
            if item is None:
                read.issues.append(
                    Issue(
                        "invalid", f"linkId {link_id!r} matches no item of the Questionnaire", where
                    )
                )
                continue
            if link_id in seen:
                read.issues.append(Issue("duplicate", f"item {link_id!r} is answered twice", where))
                continue
            seen[link_id] = where
            _answers(item, raw.get("answer", []) or [], where)
            for answer in raw.get("answer", []) or []:
                walk(answer.get("item", []) or [], (*parents, link_id))
            walk(raw.get("item", []) or [], (*parents, link_id))

    def _answers(item: PlanItem, answers: Sequence[Any], where: str) -> None:
        if not answers:
            return
        if item.type in ("group", "display"):
            read.issues.append(Issue("invalid", f"a {item.type} item takes no answer", where))
            return
        if len(answers) > 1 and not item.repeats:
            read.issues.append(
                Issue(
                    "invalid", f"item {item.link_id!r} takes one answer, not {len(answers)}", where
                )
            )
            return
        if item.calculated is not None:
            stated = _stated(answers[0])
            if stated is not None:
                read.stated[item.link_id] = (stated, where)
            return
        if not item.options:
            return  # free text, dates, numbers: kept in the stored response as given
        for index, answer in enumerate(answers):
            option, given = _match(item, answer)
            if option is None:
                read.issues.append(
                    Issue(
                        "value",
                        f"{given} is not one of the answers of item "
                        f"{item.link_id!r}: {_allowed(item)}",
                        where,
                    )
                )
                continue
            if option.weight is not None:
                read.weights[(item.link_id, index)] = option.weight
                if item.target is not None:
                    read.answers[item.target] = int(option.weight)
                    scored_at[item.target] = where

    walk(response.get("item", []) or [], ())

    for item in plan.items.values():
        if item.required and item.target is None and item.link_id not in seen:
            read.issues.append(
                Issue(
                    "required",
                    f"required item {item.link_id!r} is not answered",
                    item_path(plan.items, item.link_id, ROOT),
                )
            )
    by_target = plan.by_target()
    bad_targets = {
        plan.items[link_id].target
        for link_id in seen
        if plan.items[link_id].target is not None
        and any(i.expression == seen[link_id] for i in read.issues)
    }
    try:
        read.result = score(plan.instrument, read.answers)
    except ResponseInvalid as invalid:
        for problem in invalid.problems:
            if problem.link_id in bad_targets:
                continue  # already reported against the answer given
            link_id = by_target.get(problem.link_id, problem.link_id)
            where = scored_at.get(problem.link_id) or (
                item_path(plan.items, link_id, ROOT) if link_id in plan.items else ROOT
            )
            code: IssueCode = "required" if problem.code == "missing" else "business-rule"
            text = "is not answered" if problem.code == "missing" else problem.message
            read.issues.append(Issue(code, f"item {link_id!r} {text}", where))
    return read


def _environment(
    plan: Plan, link_id: str, response: Mapping[str, Any], questionnaire: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Issue]]:
    env: dict[str, Any] = {"questionnaire": questionnaire}
    for variable in plan.scope(link_id):
        try:
            env[variable.name or ""] = fhirpath.evaluate(variable.expression, response, env)
        except fhirpath.ExpressionFailed as failed:
            return env, [
                Issue(
                    "invariant",
                    f"variable {variable.name!r} ({variable.expression!r}) "
                    f"cannot be evaluated: {failed}",
                    variable.where,
                )
            ]
    return env, []


def calculations_check(
    plan: Plan,
    response: Mapping[str, Any],
    questionnaire: Mapping[str, Any],
    read: ReadResponse,
) -> list[Issue]:
    """Evaluate every calculated item; compare the total with the built-in score and each
    stated value with its expression. A disagreement is reported, never stored."""
    issues: list[Issue] = []
    annotated = fhirpath.annotate_weights(response, read.weights)
    total = read.result.total if read.result is not None else None
    for item in plan.items.values():
        if item.calculated is None:
            continue
        is_total = item.link_id == plan.total_item
        if not is_total and item.link_id not in read.stated:
            continue
        env, problems = _environment(plan, item.link_id, annotated, questionnaire)
        if problems:
            issues.extend(problems)
            continue
        expression = item.calculated
        try:
            value = fhirpath.evaluate_number(expression.expression, annotated, env)
        except fhirpath.ExpressionFailed as failed:
            issues.append(
                Issue(
                    "invariant",
                    f"the score expression of item {item.link_id!r} "
                    f"({expression.expression!r}) cannot be evaluated: {failed}",
                    expression.where,
                )
            )
            continue
        if is_total and total is not None and value != total:
            issues.append(
                Issue(
                    "invariant",
                    f"the score expression of item {item.link_id!r} ({expression.expression!r})"
                    f" gives {value}, but the answers' weights give {total} on the built-in "
                    f"{plan.instrument.code}: the expression is wrong; nothing was stored",
                    expression.where,
                )
            )
        stated = read.stated.get(item.link_id)
        if stated is not None:
            expected = total if is_total and total is not None else value
            if expected is not None and stated[0] != expected:
                issues.append(
                    Issue(
                        "business-rule",
                        f"the response states {stated[0]} for item {item.link_id!r}, but its "
                        f"answers give {expected}: remove the stated value or correct the "
                        "answers",
                        stated[1],
                    )
                )
    return issues


def probe_responses(plan: Plan) -> list[dict[str, Any]]:
    """Test responses for an imported definition: every scored item at its lowest weight, at
    its highest, and in staggered patterns; every unscored choice item at its first option."""
    instrument = plan.instrument
    if instrument.scoring.method != "sum" or any(i.enable_when for i in instrument.items):
        return []
    width = max(len(item.options) for item in plan.items.values() if item.weighted)
    patterns: list[int | None] = [0, -1, *range(1, width)]
    probes = []
    for shift in patterns:
        position = 0

        def build(link_ids: Sequence[str], shift: int | None = shift) -> list[dict[str, Any]]:
            nonlocal position
            built = []
            for link_id in link_ids:
                item = plan.items[link_id]
                entry: dict[str, Any] = {"linkId": link_id}
                if item.weighted:
                    options = sorted(
                        (o for o in item.options if o.weight is not None),
                        key=lambda o: o.weight or 0,
                    )
                    index = -1 if shift == -1 else (position + (shift or 0)) % len(options)
                    if shift == 0:
                        index = 0
                    position += 1
                    entry["answer"] = [_answer_for(options[index])]
                elif (
                    item.options
                    and item.calculated is None
                    and item.type in ("choice", "open-choice")
                ):
                    entry["answer"] = [_answer_for(item.options[0])]
                children = build(item.children)
                if children:
                    entry["item"] = children
                if "answer" in entry or "item" in entry:
                    built.append(entry)
            return built

        probes.append(
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "item": build(plan.top),
            }
        )
    return probes


def _answer_for(option: Option) -> dict[str, Any]:
    if option.code is not None:
        coding = {"code": option.code}
        if option.system:
            coding["system"] = option.system
        return {"valueCoding": coding}
    if option.integer is not None:
        return {"valueInteger": option.integer}
    return {"valueInteger": int(option.weight or 0)}


def probe_problems(plan: Plan, questionnaire: Mapping[str, Any]) -> list[Issue]:
    """Score test responses with the definition and with the built-in instrument; report the
    first disagreement or failure of each expression."""
    found: dict[str, Issue] = {}
    for probe in probe_responses(plan):
        read = response_read(plan, probe)
        if read.issues:
            for issue in read.issues:
                found.setdefault(issue.diagnostics, issue)
            break
        for issue in calculations_check(plan, probe, questionnaire, read):
            key = issue.expression or issue.diagnostics
            if key not in found:
                answers = ", ".join(
                    f"{k}={v}" for k, v in sorted(read.answers.items(), key=lambda kv: kv[0])
                )
                found[key] = Issue(
                    issue.code,
                    f"{issue.diagnostics} (test response with the built-in's answers {answers})",
                    issue.expression,
                )
    return list(found.values())
