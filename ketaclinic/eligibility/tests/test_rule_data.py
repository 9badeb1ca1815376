"""Rule data: validation, round trip, and editing without touching proposals already made."""

from __future__ import annotations

import copy
import json
from dataclasses import FrozenInstanceError, replace
from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.eligibility.rules import (
    ContraindicationTicked,
    Evaluation,
    MedicationTrial,
    Outcome,
    PsychotherapyCourse,
    Rule,
    RuleDataError,
    RuleKind,
    Vitals,
    VitalsAnyAtLeast,
    checklist_codes,
    default_minimum_doses,
    default_ruleset,
    eligibility_propose,
    minimum_doses_from_json,
    proposal_to_dict,
    ruleset_from_json,
    ruleset_rule_replace,
    ruleset_to_json,
)

RULES = default_ruleset()
DOSES = default_minimum_doses()
ELIGIBLE = Evaluation(
    diagnoses=("F41.1",),
    prior_treatments=(
        MedicationTrial("sertraline", "SSRI", daily_dose_mg=Decimal(100), weeks=Decimal(8)),
        PsychotherapyCourse("CBT", sessions=12),
    ),
    vitals=Vitals(systolic=120, diastolic=80),
)


def rule(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "glaucoma",
        "kind": "relative_contraindication",
        "description": "Glaucoma.",
        "condition": {"contraindication": "glaucoma"},
        "source": "Oxford Health NHS ketamine service",
    }
    base.update(overrides)
    return base


def ruleset(*rules: dict[str, Any], version: Any = "test-1") -> dict[str, Any]:
    return {"version": version, "rules": list(rules) or [rule()]}


def test_shipped_rules_round_trip_through_json() -> None:
    data = ruleset_to_json(RULES)
    assert ruleset_from_json(json.loads(json.dumps(data))) == RULES


def test_shipped_rules_file_matches_its_parsed_form() -> None:
    from importlib import resources

    text = (
        resources.files("ketaclinic.eligibility.rules")
        .joinpath("data", "default_rules.json")
        .read_text()
    )
    assert ruleset_to_json(RULES) == json.loads(text)


def test_checklist_codes_are_the_contraindication_codes_the_rules_read() -> None:
    codes = checklist_codes(RULES)
    assert "glaucoma" in codes
    assert "pregnancy" in codes
    assert "bp_elevated_at_evaluation" not in codes  # read from vitals, not ticked


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be an object"),
        ({"rules": [rule()]}, "missing 'version'"),
        (ruleset(version=""), "version: must be a non-empty string"),
        ({"version": "x", "rules": []}, "rules: must be a non-empty list"),
        ({"version": "x", "rules": [rule()], "extra": 1}, "unknown key 'extra'"),
        (ruleset(rule(kind="absolute")), "unknown kind 'absolute'"),
        (ruleset(rule(kind="relative_contraindication ")), "unknown kind"),
        (ruleset(rule(code="Glaucoma!")), "rules[0].code: must be a snake_case code"),
        (ruleset(rule(), rule()), "rules[1].code: duplicate code 'glaucoma'"),
        (ruleset(rule(source="")), "rules[0].source: must be a non-empty string"),
        (ruleset(rule(description=None)), "rules[0].description"),
        (ruleset({**rule(), "text": "x"}), "unknown key 'text'"),
        (ruleset({k: v for k, v in rule().items() if k != "source"}), "missing 'source'"),
        (
            ruleset(rule(condition={"contraindicaton": "glaucoma"})),
            "rules[0].condition: unknown condition 'contraindicaton'",
        ),
        (ruleset(rule(condition={})), "exactly one key"),
        (
            ruleset(rule(condition={"contraindication": "glaucoma", "not": {}})),
            "exactly one key",
        ),
        (ruleset(rule(condition="glaucoma")), "exactly one key"),
        (
            ruleset(rule(condition={"vitals_any_at_least": {"sistolic": 140}})),
            "unknown key 'sistolic'",
        ),
        (
            ruleset(rule(condition={"vitals_any_at_least": {"systolic": 140.5}})),
            "must be a whole number",
        ),
        (
            ruleset(rule(condition={"vitals_any_at_least": {"systolic": "140"}})),
            "must be a whole number",
        ),
        (
            ruleset(rule(condition={"vitals_any_at_least": {"systolic": True}})),
            "must be a whole number",
        ),
        (ruleset(rule(condition={"vitals_any_at_least": {}})), "needs at least one vital"),
        (ruleset(rule(condition={"vitals_missing": ["bp"]})), "unknown vital sign 'bp'"),
        (ruleset(rule(condition={"medication_class_in": []})), "must be a non-empty list"),
        (ruleset(rule(condition={"medication_name_in": "lamotrigine"})), "non-empty list"),
        (ruleset(rule(condition={"no_diagnosis_prefix_in": ["anxiety"]})), "ICD-10-CM"),
        (ruleset(rule(condition={"adequate_trials_below": 0})), "must be at least 1"),
        (ruleset(rule(condition={"adequate_trials_below": "2"})), "must be a whole number"),
        (ruleset(rule(condition={"all": []})), "condition.all: must be a non-empty list"),
        (
            ruleset(rule(condition={"any": [{"contraindication": "x"}, {"bogus": 1}]})),
            "rules[0].condition.any[1]: unknown condition 'bogus'",
        ),
        (ruleset(rule(condition={"not": {"nope": 1}})), "condition.not: unknown condition"),
    ],
)
def test_invalid_rule_data_is_refused_with_a_clear_error(data: object, message: str) -> None:
    with pytest.raises(RuleDataError) as caught:
        ruleset_from_json(data)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once() -> None:
    data = ruleset(rule(kind="maybe"), rule(code="second", source="", condition={"x": 1}))
    with pytest.raises(RuleDataError) as caught:
        ruleset_from_json(data)
    assert len(caught.value.problems) == 3
    assert "rules[0].kind" in str(caught.value)


def test_edited_shipped_rules_with_a_typo_are_refused() -> None:
    data = copy.deepcopy(ruleset_to_json(RULES))
    data["rules"][12]["condition"]["all"][0] = {"vitals_at_least": {"systolic": 150}}
    with pytest.raises(RuleDataError, match=r"rules\[12\]\.condition\.all\[0\]"):
        ruleset_from_json(data)


def test_editing_a_rule_leaves_proposals_already_made_unchanged() -> None:
    before = eligibility_propose(replace(ELIGIBLE, vitals=Vitals(145, 85)), RULES, DOSES)
    before_dict = proposal_to_dict(before)
    assert before.outcome is Outcome.NEEDS_REVIEW
    assert before.rules_version == "2025.1"

    # The administrator raises the review threshold to 150/95 and rewords the rule.
    old = next(r for r in RULES.rules if r.code == "bp_elevated_at_evaluation")
    edited_rule = replace(
        old,
        description="Blood pressure at evaluation at or above 150/95.",
        condition=VitalsAnyAtLeast((("systolic", 150), ("diastolic", 95))),
        source="Medical director, 2025-06",
    )
    edited = ruleset_rule_replace(RULES, edited_rule, version="2025.2")

    after = eligibility_propose(replace(ELIGIBLE, vitals=Vitals(145, 85)), edited, DOSES)
    assert after.outcome is Outcome.ELIGIBLE
    assert after.rules_version == "2025.2"

    # The earlier proposal is a value: same version, outcome, reasons and texts as before.
    assert proposal_to_dict(before) == before_dict
    assert before.rules_version == "2025.1"
    assert before.reasons[0].text == old.description
    assert before.reasons[0].source == old.source
    with pytest.raises(FrozenInstanceError):
        before.outcome = Outcome.ELIGIBLE  # type: ignore[misc]
    # And the original rule set is untouched.
    assert next(r for r in RULES.rules if r.code == "bp_elevated_at_evaluation") == old


def test_an_edit_needs_a_new_version() -> None:
    with pytest.raises(RuleDataError, match="new version"):
        ruleset_rule_replace(RULES, RULES.rules[0], version=RULES.version)


def test_adding_a_rule_appends_it_and_it_fires() -> None:
    new = Rule(
        "claustrophobia",
        RuleKind.RELATIVE_CONTRAINDICATION,
        "Claustrophobia.",
        ContraindicationTicked("claustrophobia"),
        "Medical director",
    )
    edited = ruleset_rule_replace(RULES, new, version="2025.3")
    assert edited.rules[-1] == new
    ev = replace(ELIGIBLE, contraindications=frozenset({"claustrophobia"}))
    assert [r.code for r in eligibility_propose(ev, edited, DOSES).reasons] == ["claustrophobia"]
    assert eligibility_propose(ev, RULES, DOSES).reasons[0].code == "unrecognised_checklist_item"


def test_an_absolute_rule_demoted_to_relative_changes_the_outcome() -> None:
    old = next(r for r in RULES.rules if r.code == "pregnancy")
    edited = ruleset_rule_replace(
        RULES, replace(old, kind=RuleKind.RELATIVE_CONTRAINDICATION), version="x"
    )
    ev = replace(ELIGIBLE, contraindications=frozenset({"pregnancy"}))
    assert eligibility_propose(ev, RULES, DOSES).outcome is Outcome.NOT_ELIGIBLE
    assert eligibility_propose(ev, edited, DOSES).outcome is Outcome.NEEDS_REVIEW


def _doses_json() -> dict[str, Any]:
    from importlib import resources

    text = (
        resources.files("ketaclinic.eligibility.rules")
        .joinpath("data", "minimum_doses.json")
        .read_text()
    )
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("doses", "sertraline", "minimum_daily_mg"), 50.0, "decimal string"),
        (("doses", "sertraline", "minimum_daily_mg"), "-5", "positive"),
        (("doses", "sertraline", "minimum_daily_mg"), "fifty", "decimal number"),
        (("doses", "sertraline", "drug_class"), "TCA", "not one of medication.drug_classes"),
        (("doses", "sertraline", "confirmed"), "no", "true or false"),
        (("medication", "minimum_weeks"), 6.0, "decimal string"),
        (("psychotherapies", 0, "minimum_sessions"), 0, "at least 1"),
        (("psychotherapies", 1, "diagnosis_prefixes"), ["OCD"], "ICD-10-CM"),
        (("psychotherapies", 1, "modality"), "cbt", "only once"),
    ],
)
def test_invalid_dose_table_is_refused(
    path: tuple[str | int, ...], value: object, message: str
) -> None:
    data = _doses_json()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(RuleDataError) as caught:
        minimum_doses_from_json(data)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_dose_table_names_are_case_insensitive_and_unique() -> None:
    data = _doses_json()
    data["doses"]["Sertraline"] = dict(data["doses"]["sertraline"])
    with pytest.raises(RuleDataError, match="duplicate drug 'sertraline'"):
        minimum_doses_from_json(data)
