"""Reading, validating and writing rule sets and the adequate-trial (minimum-dose) table.

Validation collects every problem with its path (``rules[3].condition.all[0]: ...``) so that an
administrator's edit is refused whole, with all its faults named, rather than half-applied.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from typing import Any

from ketaclinic.eligibility.rules.checks import (
    ALL_VITALS,
    WHOLE_VITALS,
    Problems,
    check_code,
    check_icd_prefix,
    check_list,
    check_object,
    check_text,
    check_threshold,
    check_whole,
)
from ketaclinic.eligibility.rules.model import (
    AllOf,
    AnyOf,
    Condition,
    ContraindicationTicked,
    DiagnosisPrefixIn,
    FewerAdequateTrials,
    MedicationClassIn,
    MedicationNameIn,
    MinimumDose,
    MinimumDoses,
    NoDiagnosisPrefixIn,
    Not,
    PsychotherapyStandard,
    Rule,
    RuleDataError,
    RuleKind,
    RuleSet,
    VitalsAnyAtLeast,
    VitalsMissing,
)

_RULE_KEYS = ("code", "kind", "description", "condition", "source")
_CONDITION_KEYS = (
    "contraindication",
    "vitals_any_at_least",
    "vitals_missing",
    "medication_class_in",
    "medication_name_in",
    "diagnosis_prefix_in",
    "no_diagnosis_prefix_in",
    "adequate_trials_below",
    "all",
    "any",
    "not",
)

# --- rule sets -----------------------------------------------------------------------------


def _condition(value: object, path: str, problems: Problems) -> Condition | None:
    if not isinstance(value, dict) or len(value) != 1:
        problems.add(path, "a condition must be an object with exactly one key")
        return None
    ((key, arg),) = value.items()
    here = f"{path}.{key}"
    match key:
        case "contraindication":
            code = check_code(arg, here, problems)
            return None if code is None else ContraindicationTicked(code)
        case "vitals_any_at_least":
            limits = check_object(arg, here, problems, required=(), optional=WHOLE_VITALS)
            if limits is None:
                return None
            if not limits:
                problems.add(here, "needs at least one vital sign")
                return None
            parsed = {
                k: check_whole(v, f"{here}.{k}", problems, minimum=1) for k, v in limits.items()
            }
            if any(v is None for v in parsed.values()):
                return None
            return VitalsAnyAtLeast(tuple((k, v) for k, v in parsed.items() if v is not None))
        case "vitals_missing":
            names = check_list(arg, here, problems, _vital_name)
            return None if names is None else VitalsMissing(names)
        case "medication_class_in" | "medication_name_in":
            words = check_list(arg, here, problems, check_text)
            if words is None:
                return None
            if key == "medication_class_in":
                return MedicationClassIn(words)
            return MedicationNameIn(words)
        case "diagnosis_prefix_in" | "no_diagnosis_prefix_in":
            prefixes = check_list(arg, here, problems, check_icd_prefix)
            if prefixes is None:
                return None
            if key == "diagnosis_prefix_in":
                return DiagnosisPrefixIn(prefixes)
            return NoDiagnosisPrefixIn(prefixes)
        case "adequate_trials_below":
            count = check_whole(arg, here, problems, minimum=1)
            return None if count is None else FewerAdequateTrials(count)
        case "all" | "any":
            parts: tuple[Condition, ...] | None = check_list(arg, here, problems, _condition)
            if parts is None:
                return None
            return AllOf(parts) if key == "all" else AnyOf(parts)
        case "not":
            inner = _condition(arg, here, problems)
            return None if inner is None else Not(inner)
    problems.add(path, f"unknown condition {key!r}; expected one of {', '.join(_CONDITION_KEYS)}")
    return None


def _vital_name(value: object, path: str, problems: Problems) -> str | None:
    if value not in ALL_VITALS:
        problems.add(path, f"unknown vital sign {value!r}; expected one of {', '.join(ALL_VITALS)}")
        return None
    return str(value)


def _rule(value: object, path: str, problems: Problems) -> Rule | None:
    raw = check_object(value, path, problems, required=_RULE_KEYS)
    if raw is None:
        return None
    code = check_code(raw["code"], f"{path}.code", problems)
    kind: RuleKind | None = None
    if raw["kind"] in {k.value for k in RuleKind}:
        kind = RuleKind(raw["kind"])
    else:
        allowed = ", ".join(k.value for k in RuleKind)
        problems.add(f"{path}.kind", f"unknown kind {raw['kind']!r}; expected one of {allowed}")
    description = check_text(raw["description"], f"{path}.description", problems)
    source = check_text(raw["source"], f"{path}.source", problems)
    condition = _condition(raw["condition"], f"{path}.condition", problems)
    if code is None or kind is None or description is None or source is None or condition is None:
        return None
    return Rule(code, kind, description, condition, source)


def ruleset_from_json(data: object) -> RuleSet:
    """A validated :class:`RuleSet`; raises :class:`RuleDataError` listing every problem."""
    problems = Problems()
    raw = check_object(data, "", problems, required=("version", "rules"))
    if raw is None:
        raise RuleDataError(problems.items)
    version = check_text(raw["version"], "version", problems)
    rules = check_list(raw["rules"], "rules", problems, _rule)
    if rules is not None:
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            if rule.code in seen:
                problems.add(f"rules[{index}].code", f"duplicate code {rule.code!r}")
            seen.add(rule.code)
    if problems.items or version is None or rules is None:
        raise RuleDataError(problems.items)
    return RuleSet(version, rules)


def condition_to_json(condition: Condition) -> dict[str, Any]:
    """The JSON form of a condition (inverse of the parser)."""
    match condition:
        case ContraindicationTicked(code):
            return {"contraindication": code}
        case VitalsAnyAtLeast(thresholds):
            return {"vitals_any_at_least": dict(thresholds)}
        case VitalsMissing(names):
            return {"vitals_missing": list(names)}
        case MedicationClassIn(classes):
            return {"medication_class_in": list(classes)}
        case MedicationNameIn(names):
            return {"medication_name_in": list(names)}
        case DiagnosisPrefixIn(prefixes):
            return {"diagnosis_prefix_in": list(prefixes)}
        case NoDiagnosisPrefixIn(prefixes):
            return {"no_diagnosis_prefix_in": list(prefixes)}
        case FewerAdequateTrials(count):
            return {"adequate_trials_below": count}
        case AllOf(parts):
            return {"all": [condition_to_json(p) for p in parts]}
        case AnyOf(parts):
            return {"any": [condition_to_json(p) for p in parts]}
        case Not(inner):
            return {"not": condition_to_json(inner)}
    raise TypeError(f"unknown condition {condition!r}")  # pragma: no cover - exhaustive


def ruleset_to_json(ruleset: RuleSet) -> dict[str, Any]:
    """The JSON form of a rule set, as stored per version; round-trips through the parser."""
    return {
        "version": ruleset.version,
        "rules": [
            {
                "code": r.code,
                "kind": r.kind.value,
                "description": r.description,
                "condition": condition_to_json(r.condition),
                "source": r.source,
            }
            for r in ruleset.rules
        ],
    }


def ruleset_rule_replace(ruleset: RuleSet, rule: Rule, *, version: str) -> RuleSet:
    """A new rule set, version ``version``, with ``rule`` replacing the rule of its code.

    A rule with a new code is appended. The result is validated like any rule data.
    """
    if version == ruleset.version:
        raise RuleDataError([f"an edited rule set needs a new version, not {version!r}"])
    rules = [rule if r.code == rule.code else r for r in ruleset.rules]
    if all(r.code != rule.code for r in ruleset.rules):
        rules.append(rule)
    edited = replace(ruleset, version=version, rules=tuple(rules))
    return ruleset_from_json(ruleset_to_json(edited))


# --- minimum doses -------------------------------------------------------------------------


def _psychotherapy(value: object, path: str, problems: Problems) -> PsychotherapyStandard | None:
    raw = check_object(
        value,
        path,
        problems,
        required=("modality", "minimum_sessions", "diagnosis_prefixes", "source"),
    )
    if raw is None:
        return None
    modality = check_text(raw["modality"], f"{path}.modality", problems)
    sessions = check_whole(raw["minimum_sessions"], f"{path}.minimum_sessions", problems, minimum=1)
    prefixes = check_list(
        raw["diagnosis_prefixes"],
        f"{path}.diagnosis_prefixes",
        problems,
        check_icd_prefix,
        empty=True,
    )
    source = check_text(raw["source"], f"{path}.source", problems)
    if modality is None or sessions is None or prefixes is None or source is None:
        return None
    return PsychotherapyStandard(modality.strip(), sessions, prefixes, source)


def minimum_doses_from_json(data: object) -> MinimumDoses:
    """A validated adequate-trial table; raises :class:`RuleDataError` listing every problem."""
    problems = Problems()
    raw = check_object(
        data,
        "",
        problems,
        required=("version", "source", "medication", "psychotherapies", "doses"),
    )
    if raw is None:
        raise RuleDataError(problems.items)
    version = check_text(raw["version"], "version", problems)
    source = check_text(raw["source"], "source", problems)
    medication = check_object(
        raw["medication"],
        "medication",
        problems,
        required=("drug_classes", "minimum_weeks", "source"),
    )
    classes: tuple[str, ...] | None = None
    weeks: Decimal | None = None
    if medication is not None:
        classes = check_list(
            medication["drug_classes"], "medication.drug_classes", problems, check_text
        )
        weeks = check_threshold(medication["minimum_weeks"], "medication.minimum_weeks", problems)
        check_text(medication["source"], "medication.source", problems)
    therapies = check_list(raw["psychotherapies"], "psychotherapies", problems, _psychotherapy)
    if therapies is not None:
        modalities = [t.modality.casefold() for t in therapies]
        if len(set(modalities)) != len(modalities):
            problems.add("psychotherapies", "each modality may appear only once")
    doses: dict[str, MinimumDose] = {}
    if not isinstance(raw["doses"], dict) or not raw["doses"]:
        problems.add("doses", "must be a non-empty object of drug name to minimum dose")
    else:
        class_names = {c.casefold() for c in classes or ()}
        for name, entry in raw["doses"].items():
            here = f"doses.{name}"
            drug = name.strip().casefold()
            if drug in doses:
                problems.add(here, f"duplicate drug {drug!r}")
            fields_ = check_object(
                entry,
                here,
                problems,
                required=("drug_class", "minimum_daily_mg", "source", "confirmed"),
            )
            if fields_ is None:
                continue
            drug_class = check_text(fields_["drug_class"], f"{here}.drug_class", problems)
            if (
                drug_class is not None
                and classes is not None
                and (drug_class.casefold() not in class_names)
            ):
                problems.add(
                    f"{here}.drug_class",
                    f"{drug_class!r} is not one of medication.drug_classes",
                )
            mg = check_threshold(fields_["minimum_daily_mg"], f"{here}.minimum_daily_mg", problems)
            dose_source = check_text(fields_["source"], f"{here}.source", problems)
            if not isinstance(fields_["confirmed"], bool):
                problems.add(f"{here}.confirmed", "must be true or false")
            if drug_class is not None and mg is not None and dose_source is not None:
                doses[drug] = MinimumDose(
                    drug, drug_class, mg, dose_source, fields_["confirmed"] is True
                )
    if (
        problems.items
        or version is None
        or source is None
        or classes is None
        or weeks is None
        or therapies is None
    ):
        raise RuleDataError(problems.items)
    return MinimumDoses(version, classes, weeks, doses, therapies, source)


# --- shipped defaults ----------------------------------------------------------------------


def _load_json(name: str) -> Any:
    text = resources.files("ketaclinic.eligibility.rules").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


def default_ruleset() -> RuleSet:
    """The shipped rule set (``ketaclinic/eligibility/rules/data/default_rules.json``)."""
    return ruleset_from_json(_load_json("default_rules.json"))


def default_minimum_doses() -> MinimumDoses:
    """The shipped adequate-trial table (``eligibility/rules/data/minimum_doses.json``)."""
    return minimum_doses_from_json(_load_json("minimum_doses.json"))
