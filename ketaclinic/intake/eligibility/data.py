"""Reading, validating and writing the engine's data: rule sets, dose tables, evaluations.

Validation collects every problem with its path (``rules[3].condition.all[0]: ...``) so that an
administrator's edit is refused whole, with all its faults named, rather than half-applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, TypeVar

from ketaclinic.intake.eligibility.model import (
    AllOf,
    AnyOf,
    Condition,
    ContraindicationTicked,
    DiagnosisPrefixIn,
    Evaluation,
    EvaluationDataError,
    FewerAdequateTrials,
    Medication,
    MedicationClassIn,
    MedicationNameIn,
    MedicationTrial,
    MinimumDose,
    MinimumDoses,
    NoDiagnosisPrefixIn,
    Not,
    PriorTreatment,
    PsychotherapyCourse,
    PsychotherapyStandard,
    Rule,
    RuleDataError,
    RuleKind,
    RuleSet,
    Vitals,
    VitalsAnyAtLeast,
    VitalsMissing,
)

T = TypeVar("T")

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
# ICD-10-CM: a letter, a digit, a digit or letter, then up to four characters after the dot;
# any leading part of that is a valid prefix ("F", "F4", "F41", "F41.1").
_ICD_PREFIX_RE = re.compile(r"^[A-Z]([0-9]([0-9A-Z](\.?[0-9A-Z]{1,4})?)?)?$")
_WHOLE_VITALS = ("systolic", "diastolic", "heart_rate", "spo2")
_ALL_VITALS = tuple(f.name for f in fields(Vitals))
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


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}" if path else message)


def _object(
    value: object,
    path: str,
    problems: _Problems,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """A JSON object with all required keys and no unknown ones, else None."""
    if not isinstance(value, dict):
        problems.add(path, f"must be an object, not {type(value).__name__}")
        return None
    ok = True
    for key in required:
        if key not in value:
            problems.add(path, f"missing {key!r}")
            ok = False
    for key in value:
        if key not in required and key not in optional:
            problems.add(path, f"unknown key {key!r}; expected {', '.join(required + optional)}")
            ok = False
    return value if ok else None


def _text(value: object, path: str, problems: _Problems, *, empty: bool = False) -> str | None:
    if not isinstance(value, str) or (not empty and not value.strip()):
        problems.add(path, "must be a non-empty string" if not empty else "must be a string")
        return None
    return value


def _code(value: object, path: str, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not _CODE_RE.match(value):
        problems.add(path, f"must be a snake_case code (a-z, 0-9, _), not {value!r}")
        return None
    return value


def _whole(value: object, path: str, problems: _Problems, *, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, f"must be a whole number, not {value!r}")
        return None
    if value < minimum:
        problems.add(path, f"must be at least {minimum}, not {value}")
        return None
    return value


def _threshold(value: object, path: str, problems: _Problems) -> Decimal | None:
    """A positive clinical threshold: a whole number or a decimal string, never a float."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.add(path, f"must be a whole number or a decimal string, not {value!r}")
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        problems.add(path, f"must be a decimal number, not {value!r}")
        return None
    if not number.is_finite() or number <= 0:
        problems.add(path, f"must be a positive number, not {value!r}")
        return None
    return number


def _list(
    value: object,
    path: str,
    problems: _Problems,
    item: Callable[[object, str, _Problems], T | None],
    *,
    empty: bool = False,
) -> tuple[T, ...] | None:
    if not isinstance(value, list) or (not empty and not value):
        problems.add(path, "must be a non-empty list" if not empty else "must be a list")
        return None
    out: list[T] = []
    ok = True
    for index, element in enumerate(value):
        parsed = item(element, f"{path}[{index}]", problems)
        if parsed is None:
            ok = False
        else:
            out.append(parsed)
    return tuple(out) if ok else None


def _icd_prefix(value: object, path: str, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not _ICD_PREFIX_RE.match(value.strip().upper()):
        problems.add(path, f"must be an ICD-10-CM code or prefix such as 'F41', not {value!r}")
        return None
    return value.strip().upper()


# --- rule sets -----------------------------------------------------------------------------


def _condition(value: object, path: str, problems: _Problems) -> Condition | None:
    if not isinstance(value, dict) or len(value) != 1:
        problems.add(path, "a condition must be an object with exactly one key")
        return None
    ((key, arg),) = value.items()
    here = f"{path}.{key}"
    match key:
        case "contraindication":
            code = _code(arg, here, problems)
            return None if code is None else ContraindicationTicked(code)
        case "vitals_any_at_least":
            limits = _object(arg, here, problems, required=(), optional=_WHOLE_VITALS)
            if limits is None:
                return None
            if not limits:
                problems.add(here, "needs at least one vital sign")
                return None
            parsed = {k: _whole(v, f"{here}.{k}", problems, minimum=1) for k, v in limits.items()}
            if any(v is None for v in parsed.values()):
                return None
            return VitalsAnyAtLeast(tuple((k, v) for k, v in parsed.items() if v is not None))
        case "vitals_missing":
            names = _list(arg, here, problems, _vital_name)
            return None if names is None else VitalsMissing(names)
        case "medication_class_in" | "medication_name_in":
            words = _list(arg, here, problems, _text)
            if words is None:
                return None
            if key == "medication_class_in":
                return MedicationClassIn(words)
            return MedicationNameIn(words)
        case "diagnosis_prefix_in" | "no_diagnosis_prefix_in":
            prefixes = _list(arg, here, problems, _icd_prefix)
            if prefixes is None:
                return None
            if key == "diagnosis_prefix_in":
                return DiagnosisPrefixIn(prefixes)
            return NoDiagnosisPrefixIn(prefixes)
        case "adequate_trials_below":
            count = _whole(arg, here, problems, minimum=1)
            return None if count is None else FewerAdequateTrials(count)
        case "all" | "any":
            parts: tuple[Condition, ...] | None = _list(arg, here, problems, _condition)
            if parts is None:
                return None
            return AllOf(parts) if key == "all" else AnyOf(parts)
        case "not":
            inner = _condition(arg, here, problems)
            return None if inner is None else Not(inner)
    problems.add(path, f"unknown condition {key!r}; expected one of {', '.join(_CONDITION_KEYS)}")
    return None


def _vital_name(value: object, path: str, problems: _Problems) -> str | None:
    if value not in _ALL_VITALS:
        problems.add(
            path, f"unknown vital sign {value!r}; expected one of {', '.join(_ALL_VITALS)}"
        )
        return None
    return str(value)


def _rule(value: object, path: str, problems: _Problems) -> Rule | None:
    raw = _object(value, path, problems, required=_RULE_KEYS)
    if raw is None:
        return None
    code = _code(raw["code"], f"{path}.code", problems)
    kind: RuleKind | None = None
    if raw["kind"] in {k.value for k in RuleKind}:
        kind = RuleKind(raw["kind"])
    else:
        allowed = ", ".join(k.value for k in RuleKind)
        problems.add(f"{path}.kind", f"unknown kind {raw['kind']!r}; expected one of {allowed}")
    description = _text(raw["description"], f"{path}.description", problems)
    source = _text(raw["source"], f"{path}.source", problems)
    condition = _condition(raw["condition"], f"{path}.condition", problems)
    if code is None or kind is None or description is None or source is None or condition is None:
        return None
    return Rule(code, kind, description, condition, source)


def ruleset_from_json(data: object) -> RuleSet:
    """A validated :class:`RuleSet`; raises :class:`RuleDataError` listing every problem."""
    problems = _Problems()
    raw = _object(data, "", problems, required=("version", "rules"))
    if raw is None:
        raise RuleDataError(problems.items)
    version = _text(raw["version"], "version", problems)
    rules = _list(raw["rules"], "rules", problems, _rule)
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


def _psychotherapy(value: object, path: str, problems: _Problems) -> PsychotherapyStandard | None:
    raw = _object(
        value,
        path,
        problems,
        required=("modality", "minimum_sessions", "diagnosis_prefixes", "source"),
    )
    if raw is None:
        return None
    modality = _text(raw["modality"], f"{path}.modality", problems)
    sessions = _whole(raw["minimum_sessions"], f"{path}.minimum_sessions", problems, minimum=1)
    prefixes = _list(
        raw["diagnosis_prefixes"], f"{path}.diagnosis_prefixes", problems, _icd_prefix, empty=True
    )
    source = _text(raw["source"], f"{path}.source", problems)
    if modality is None or sessions is None or prefixes is None or source is None:
        return None
    return PsychotherapyStandard(modality.strip(), sessions, prefixes, source)


def minimum_doses_from_json(data: object) -> MinimumDoses:
    """A validated adequate-trial table; raises :class:`RuleDataError` listing every problem."""
    problems = _Problems()
    raw = _object(
        data,
        "",
        problems,
        required=("version", "source", "medication", "psychotherapies", "doses"),
    )
    if raw is None:
        raise RuleDataError(problems.items)
    version = _text(raw["version"], "version", problems)
    source = _text(raw["source"], "source", problems)
    medication = _object(
        raw["medication"],
        "medication",
        problems,
        required=("drug_classes", "minimum_weeks", "source"),
    )
    classes: tuple[str, ...] | None = None
    weeks: Decimal | None = None
    if medication is not None:
        classes = _list(medication["drug_classes"], "medication.drug_classes", problems, _text)
        weeks = _threshold(medication["minimum_weeks"], "medication.minimum_weeks", problems)
        _text(medication["source"], "medication.source", problems)
    therapies = _list(raw["psychotherapies"], "psychotherapies", problems, _psychotherapy)
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
            fields_ = _object(
                entry,
                here,
                problems,
                required=("drug_class", "minimum_daily_mg", "source", "confirmed"),
            )
            if fields_ is None:
                continue
            drug_class = _text(fields_["drug_class"], f"{here}.drug_class", problems)
            if (
                drug_class is not None
                and classes is not None
                and (drug_class.casefold() not in class_names)
            ):
                problems.add(
                    f"{here}.drug_class",
                    f"{drug_class!r} is not one of medication.drug_classes",
                )
            mg = _threshold(fields_["minimum_daily_mg"], f"{here}.minimum_daily_mg", problems)
            dose_source = _text(fields_["source"], f"{here}.source", problems)
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


# --- evaluations ---------------------------------------------------------------------------

# Evaluation fields the clinic records that no rule reads; accepted and left to the caller.
_UNREAD_EVALUATION_KEYS = (
    "baseline_scores",
    "medical_history",
    "allergies",
    "substance_use",
    "psychosis_history",
    "mania_history",
    "pregnancy_status",
)


def _amount(value: object, path: str, problems: _Problems) -> Decimal | None:
    """A measured amount (dose, weeks, weight): number or decimal string; floats via str."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.add(path, f"must be a number, not {value!r}")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add(path, f"must be a number, not {value!r}")
        return None
    if not number.is_finite() or number < 0:
        problems.add(path, f"must be a number at least 0, not {value!r}")
        return None
    return number


def _optional_whole(value: object, path: str, problems: _Problems) -> int | None:
    if value is None:
        return None
    return _whole(value, path, problems, minimum=0)


def _prior_treatment(value: object, path: str, problems: _Problems) -> PriorTreatment | None:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "medication":
        raw = _object(
            value,
            path,
            problems,
            required=("kind", "name"),
            optional=("drug_class", "daily_dose_mg", "weeks", "response", "side_effects", "notes"),
        )
        if raw is None:
            return None
        name = _text(raw["name"], f"{path}.name", problems)
        drug_class = _text(raw.get("drug_class", ""), f"{path}.drug_class", problems, empty=True)
        dose = _amount(raw.get("daily_dose_mg"), f"{path}.daily_dose_mg", problems)
        weeks = _amount(raw.get("weeks"), f"{path}.weeks", problems)
        response = _text(raw.get("response", ""), f"{path}.response", problems, empty=True)
        effects = _text(raw.get("side_effects", ""), f"{path}.side_effects", problems, empty=True)
        if name is None or drug_class is None or response is None or effects is None:
            return None
        return MedicationTrial(name.strip(), drug_class, dose, weeks, response, effects)
    if kind == "psychotherapy":
        raw = _object(
            value,
            path,
            problems,
            required=("kind", "name"),
            optional=("sessions", "response", "notes"),
        )
        if raw is None:
            return None
        name = _text(raw["name"], f"{path}.name", problems)
        sessions = _optional_whole(raw.get("sessions"), f"{path}.sessions", problems)
        if name is None:
            return None
        return PsychotherapyCourse(name.strip(), sessions)
    problems.add(f"{path}.kind", f"must be 'medication' or 'psychotherapy', not {kind!r}")
    return None


def _medication(value: object, path: str, problems: _Problems) -> Medication | None:
    raw = _object(
        value, path, problems, required=("name",), optional=("drug_class", "daily_dose_mg", "notes")
    )
    if raw is None:
        return None
    name = _text(raw["name"], f"{path}.name", problems)
    drug_class = _text(raw.get("drug_class", ""), f"{path}.drug_class", problems, empty=True)
    _amount(raw.get("daily_dose_mg"), f"{path}.daily_dose_mg", problems)
    if name is None or drug_class is None:
        return None
    return Medication(name.strip(), drug_class)


def _vitals(value: object, path: str, problems: _Problems) -> Vitals | None:
    raw = _object(value, path, problems, required=(), optional=_ALL_VITALS)
    if raw is None:
        return None
    whole = {k: _optional_whole(raw.get(k), f"{path}.{k}", problems) for k in _WHOLE_VITALS}
    weight = _amount(raw.get("weight_kg"), f"{path}.weight_kg", problems)
    height = _amount(raw.get("height_cm"), f"{path}.height_cm", problems)
    return Vitals(**whole, weight_kg=weight, height_cm=height)


def _diagnosis(value: object, path: str, problems: _Problems) -> str | None:
    return _icd_prefix(value, path, problems)


def evaluation_from_dict(data: Mapping[str, object]) -> Evaluation:
    """An :class:`Evaluation` from the issue's JSON shape; raises :class:`EvaluationDataError`.

    Unknown keys are refused (a misspelt ``contraindication`` must not pass unnoticed);
    evaluation fields that no rule reads (``_UNREAD_EVALUATION_KEYS``) are accepted.
    """
    problems = _Problems()
    raw = _object(
        dict(data),
        "",
        problems,
        required=(),
        optional=(
            "diagnoses",
            "prior_treatments",
            "medications",
            "contraindications",
            "vitals",
            "notes",
            *_UNREAD_EVALUATION_KEYS,
        ),
    )
    if raw is None:
        raise EvaluationDataError(problems.items)
    diagnoses = _list(raw.get("diagnoses", []), "diagnoses", problems, _diagnosis, empty=True)
    treatments: tuple[PriorTreatment, ...] | None = _list(
        raw.get("prior_treatments", []), "prior_treatments", problems, _prior_treatment, empty=True
    )
    medications = _list(
        raw.get("medications", []), "medications", problems, _medication, empty=True
    )
    ticked = _list(
        raw.get("contraindications", []), "contraindications", problems, _code, empty=True
    )
    vitals = None if raw.get("vitals") is None else _vitals(raw["vitals"], "vitals", problems)
    notes = _text(raw.get("notes", ""), "notes", problems, empty=True)
    if problems.items:
        raise EvaluationDataError(problems.items)
    return Evaluation(
        diagnoses=diagnoses or (),
        prior_treatments=treatments or (),
        medications=medications or (),
        contraindications=frozenset(ticked or ()),
        vitals=vitals,
        notes=notes or "",
    )


# --- shipped defaults ----------------------------------------------------------------------


def _load_json(name: str) -> Any:
    text = resources.files("ketaclinic.intake").joinpath("rules", name).read_text("utf-8")
    return json.loads(text)


def default_ruleset() -> RuleSet:
    """The shipped rule set (``ketaclinic/intake/rules/default_rules.json``)."""
    return ruleset_from_json(_load_json("default_rules.json"))


def default_minimum_doses() -> MinimumDoses:
    """The shipped adequate-trial table (``ketaclinic/intake/rules/minimum_doses.json``)."""
    return minimum_doses_from_json(_load_json("minimum_doses.json"))
