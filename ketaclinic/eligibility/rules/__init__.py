"""Eligibility rules engine for intake: pure, typed, no Django import.

Modules: ``model`` (frozen values), ``engine`` (evaluating rules), ``rule_data`` (the rules'
JSON in and out) and ``parsing`` (an evaluation's JSON in), both validated with ``checks``.

The clinic's eligibility rules are data (``rules/data/default_rules.json`` ships the defaults): each
rule has a code, a description, a kind, a condition in a small declarative language and a
source. An administrator may edit them; every edit is a new :class:`RuleSet` with a new
version, and every :class:`Proposal` records the version it was made with and copies the text
and source of each rule that fired, so later edits never change a proposal already made.

Condition language (each condition is a JSON object with exactly one key):

``{"contraindication": "glaucoma"}``
    the code is ticked on the evaluation's contraindication checklist.
``{"vitals_any_at_least": {"systolic": 180, "diastolic": 110}}``
    at least one of the recorded vitals is at or above its whole-number threshold
    (fields: systolic, diastolic, heart_rate, spo2); a vital not recorded never fires.
``{"vitals_missing": ["systolic", "diastolic"]}``
    at least one of these vitals is not recorded (or no vitals at all).
``{"medication_class_in": ["benzodiazepine"]}`` / ``{"medication_name_in": ["lamotrigine"]}``
    a current medication has one of these classes / names (case-insensitive).
``{"diagnosis_prefix_in": ["F42"]}`` / ``{"no_diagnosis_prefix_in": ["F40", "F41", "F42"]}``
    some / no ICD-10-CM diagnosis starts with one of the prefixes (dots and case ignored).
``{"adequate_trials_below": 2}``
    fewer adequate first-line trials than this (see :func:`adequate_trials`).
``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``
    combinations.

Every contraindication-type finding of the evaluation (history of psychosis, pregnancy,
substance use, ...) is a code on one checklist, ``Evaluation.contraindications``; the codes a
rule set knows are given by :func:`checklist_codes`. A ticked code that no rule knows is not
ignored: it gives ``needs_review`` with the reason ``unrecognised_checklist_item``.
"""

from __future__ import annotations

from ketaclinic.eligibility.rules.engine import (
    UNRECOGNISED_CHECKLIST_ITEM,
    adequate_trials,
    checklist_codes,
    eligibility_propose,
    proposal_to_dict,
    trial_assessments,
)
from ketaclinic.eligibility.rules.model import (
    AdequateTrial,
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
    Outcome,
    PriorTreatment,
    Proposal,
    PsychotherapyCourse,
    PsychotherapyStandard,
    Reason,
    Rule,
    RuleDataError,
    RuleKind,
    RuleSet,
    TrialAssessment,
    Vitals,
    VitalsAnyAtLeast,
    VitalsMissing,
)
from ketaclinic.eligibility.rules.parsing import evaluation_from_dict
from ketaclinic.eligibility.rules.rule_data import (
    condition_to_json,
    default_minimum_doses,
    default_ruleset,
    minimum_doses_from_json,
    ruleset_from_json,
    ruleset_rule_replace,
    ruleset_to_json,
)

__all__ = [
    "UNRECOGNISED_CHECKLIST_ITEM",
    "AdequateTrial",
    "AllOf",
    "AnyOf",
    "Condition",
    "ContraindicationTicked",
    "DiagnosisPrefixIn",
    "Evaluation",
    "EvaluationDataError",
    "FewerAdequateTrials",
    "Medication",
    "MedicationClassIn",
    "MedicationNameIn",
    "MedicationTrial",
    "MinimumDose",
    "MinimumDoses",
    "NoDiagnosisPrefixIn",
    "Not",
    "Outcome",
    "PriorTreatment",
    "Proposal",
    "PsychotherapyCourse",
    "PsychotherapyStandard",
    "Reason",
    "Rule",
    "RuleDataError",
    "RuleKind",
    "RuleSet",
    "TrialAssessment",
    "Vitals",
    "VitalsAnyAtLeast",
    "VitalsMissing",
    "adequate_trials",
    "checklist_codes",
    "condition_to_json",
    "default_minimum_doses",
    "default_ruleset",
    "eligibility_propose",
    "evaluation_from_dict",
    "minimum_doses_from_json",
    "proposal_to_dict",
    "ruleset_from_json",
    "ruleset_rule_replace",
    "ruleset_to_json",
    "trial_assessments",
]
