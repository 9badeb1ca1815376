"""Table-driven tests of the shipped eligibility rules."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.eligibility.rules import (
    UNRECOGNISED_CHECKLIST_ITEM,
    Evaluation,
    Medication,
    MedicationTrial,
    MinimumDoses,
    Outcome,
    PsychotherapyCourse,
    RuleKind,
    RuleSet,
    Vitals,
    default_minimum_doses,
    default_ruleset,
    eligibility_propose,
    evaluation_from_dict,
    proposal_to_dict,
)

RULES = default_ruleset()
DOSES = default_minimum_doses()

# Eligible on every shipped rule: a GAD diagnosis, two adequate trials, BP 120/80.
BASELINE = Evaluation(
    diagnoses=("F41.1",),
    prior_treatments=(
        MedicationTrial("sertraline", "SSRI", daily_dose_mg=Decimal(100), weeks=Decimal(8)),
        PsychotherapyCourse("CBT", sessions=12),
    ),
    vitals=Vitals(systolic=120, diastolic=80, heart_rate=70, spo2=98),
)


def _baseline() -> Evaluation:
    return BASELINE


Change = Callable[[Evaluation], Evaluation]


def tick(code: str) -> Change:
    return lambda ev: replace(ev, contraindications=ev.contraindications | {code})


def bp(systolic: int | None, diastolic: int | None) -> Change:
    return lambda ev: replace(ev, vitals=Vitals(systolic=systolic, diastolic=diastolic))


def takes(name: str, drug_class: str = "") -> Change:
    return lambda ev: replace(ev, medications=(*ev.medications, Medication(name, drug_class)))


def diagnosed(*codes: str) -> Change:
    return lambda ev: replace(ev, diagnoses=codes)


def only_cbt(ev: Evaluation) -> Evaluation:
    return replace(ev, prior_treatments=(PsychotherapyCourse("CBT", sessions=12),))


# Each shipped rule, the smallest change of the baseline that fires it alone, and its kind.
# "group" marks changes that touch the same field and so cannot be combined.
ABS = RuleKind.ABSOLUTE_CONTRAINDICATION
REL = RuleKind.RELATIVE_CONTRAINDICATION
REQ = RuleKind.REQUIREMENT
SHIPPED: dict[str, tuple[Change, RuleKind, str]] = {
    "aneurysmal_vascular_disease": (tick("aneurysmal_vascular_disease"), ABS, ""),
    "intracerebral_hemorrhage_history": (tick("intracerebral_hemorrhage_history"), ABS, ""),
    "ketamine_hypersensitivity": (tick("ketamine_hypersensitivity"), ABS, ""),
    "raised_intracranial_pressure": (tick("raised_intracranial_pressure"), ABS, ""),
    "current_psychosis": (tick("current_psychosis"), ABS, ""),
    "current_mania": (tick("current_mania"), ABS, ""),
    "pregnancy": (tick("pregnancy"), ABS, ""),
    "active_substance_use_disorder": (tick("active_substance_use_disorder"), ABS, ""),
    "bp_at_or_above_absolute_limit": (bp(180, 110), ABS, "vitals"),
    "psychosis_history": (tick("psychosis_history"), REL, ""),
    "substance_use_history": (tick("substance_use_history"), REL, ""),
    "uncontrolled_hypertension": (tick("uncontrolled_hypertension"), REL, ""),
    "bp_elevated_at_evaluation": (bp(150, 95), REL, "vitals"),
    "glaucoma": (tick("glaucoma"), REL, ""),
    "seizure_history": (tick("seizure_history"), REL, ""),
    "breastfeeding": (tick("breastfeeding"), REL, ""),
    "severe_hepatic_impairment": (tick("severe_hepatic_impairment"), REL, ""),
    "unstable_cardiac_disease": (tick("unstable_cardiac_disease"), REL, ""),
    "benzodiazepine_comedication": (takes("lorazepam", "benzodiazepine"), REL, ""),
    "lamotrigine_comedication": (takes("lamotrigine", "anticonvulsant"), REL, ""),
    "maoi_comedication": (takes("phenelzine", "MAOI"), REL, ""),
    "stimulant_comedication": (takes("methylphenidate", "stimulant"), REL, ""),
    "no_anxiety_disorder_diagnosis": (diagnosed("F32.1"), REQ, "diagnoses"),
    "treatment_resistance_not_established": (only_cbt, REQ, ""),
    "bp_not_recorded": (bp(None, None), REQ, "vitals"),
}  # fmt: skip

OUTCOME_OF = {
    RuleKind.ABSOLUTE_CONTRAINDICATION: Outcome.NOT_ELIGIBLE,
    RuleKind.RELATIVE_CONTRAINDICATION: Outcome.NEEDS_REVIEW,
    RuleKind.REQUIREMENT: Outcome.NEEDS_REVIEW,
}
SEVERITY = [Outcome.ELIGIBLE, Outcome.NEEDS_REVIEW, Outcome.NOT_ELIGIBLE]


def propose(ev: Evaluation, rules: RuleSet = RULES, doses: MinimumDoses = DOSES) -> Any:
    return eligibility_propose(ev, rules, doses)


def codes(ev: Evaluation) -> list[str]:
    return [r.code for r in propose(ev).reasons]


def test_baseline_is_eligible_with_no_reasons() -> None:
    proposal = propose(_baseline())
    assert proposal.outcome is Outcome.ELIGIBLE
    assert proposal.reasons == ()
    assert proposal.rules_version == RULES.version


def test_every_shipped_rule_has_a_row_in_this_table() -> None:
    assert set(SHIPPED) == {rule.code for rule in RULES.rules}


@pytest.mark.parametrize("code", list(SHIPPED))
def test_each_shipped_rule_fires_alone(code: str) -> None:
    change, kind, _ = SHIPPED[code]
    proposal = propose(change(_baseline()))
    assert [r.code for r in proposal.reasons] == [code]
    (reason,) = proposal.reasons
    rule = next(r for r in RULES.rules if r.code == code)
    assert reason.kind is kind is rule.kind
    assert reason.text == rule.description
    assert reason.source == rule.source
    assert reason.source.strip()
    assert proposal.outcome is OUTCOME_OF[kind]


PAIRS = [
    (a, b)
    for a, b in itertools.combinations(SHIPPED, 2)
    if not (SHIPPED[a][2] and SHIPPED[a][2] == SHIPPED[b][2])
]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_every_pair_of_rules_lists_both_and_the_most_severe_wins(first: str, second: str) -> None:
    ev = SHIPPED[second][0](SHIPPED[first][0](_baseline()))
    proposal = propose(ev)
    assert sorted(r.code for r in proposal.reasons) == sorted([first, second])
    expected = max(
        OUTCOME_OF[SHIPPED[first][1]], OUTCOME_OF[SHIPPED[second][1]], key=SEVERITY.index
    )
    assert proposal.outcome is expected


@settings(max_examples=200, deadline=None)
@given(st.sets(st.sampled_from([c for c in SHIPPED if not SHIPPED[c][2]])))
def test_any_combination_lists_all_reasons_ordered_by_severity(chosen: set[str]) -> None:
    ev = _baseline()
    for code in sorted(chosen):
        ev = SHIPPED[code][0](ev)
    proposal = propose(ev)
    assert {r.code for r in proposal.reasons} == chosen
    kinds = [r.kind for r in proposal.reasons]
    order = list(RuleKind)
    assert kinds == sorted(kinds, key=order.index)
    rule_order = [r.code for r in RULES.rules]
    for kind in RuleKind:
        same = [r.code for r in proposal.reasons if r.kind is kind]
        assert same == sorted(same, key=rule_order.index)
    expected = max((OUTCOME_OF[k] for k in kinds), key=SEVERITY.index, default=Outcome.ELIGIBLE)
    assert proposal.outcome is expected


def test_absolute_and_relative_and_requirement_together_is_not_eligible() -> None:
    ev = tick("glaucoma")(tick("pregnancy")(only_cbt(_baseline())))
    proposal = propose(ev)
    assert proposal.outcome is Outcome.NOT_ELIGIBLE
    assert [r.code for r in proposal.reasons] == [
        "pregnancy",
        "glaucoma",
        "treatment_resistance_not_established",
    ]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "outcome", "fired"),
    [
        (139, 89, Outcome.ELIGIBLE, []),
        (140, 80, Outcome.NEEDS_REVIEW, ["bp_elevated_at_evaluation"]),
        (120, 90, Outcome.NEEDS_REVIEW, ["bp_elevated_at_evaluation"]),
        (140, 90, Outcome.NEEDS_REVIEW, ["bp_elevated_at_evaluation"]),
        (179, 109, Outcome.NEEDS_REVIEW, ["bp_elevated_at_evaluation"]),
        (180, 110, Outcome.NOT_ELIGIBLE, ["bp_at_or_above_absolute_limit"]),
        (180, 80, Outcome.NOT_ELIGIBLE, ["bp_at_or_above_absolute_limit"]),
        (120, 110, Outcome.NOT_ELIGIBLE, ["bp_at_or_above_absolute_limit"]),
        (179, 110, Outcome.NOT_ELIGIBLE, ["bp_at_or_above_absolute_limit"]),
        (220, 130, Outcome.NOT_ELIGIBLE, ["bp_at_or_above_absolute_limit"]),
        (None, 80, Outcome.NEEDS_REVIEW, ["bp_not_recorded"]),
        (185, None, Outcome.NOT_ELIGIBLE, ["bp_at_or_above_absolute_limit", "bp_not_recorded"]),
    ],
)
def test_blood_pressure_lands_where_the_defaults_say(
    systolic: int | None, diastolic: int | None, outcome: Outcome, fired: list[str]
) -> None:
    proposal = propose(bp(systolic, diastolic)(_baseline()))
    assert proposal.outcome is outcome
    assert [r.code for r in proposal.reasons] == fired


def test_no_vitals_at_all_needs_review() -> None:
    assert codes(replace(_baseline(), vitals=None)) == ["bp_not_recorded"]


@pytest.mark.parametrize(
    ("name", "drug_class", "fired"),
    [
        ("Lorazepam", "", ["benzodiazepine_comedication"]),
        ("clonazepam", "Benzodiazepine", ["benzodiazepine_comedication"]),
        ("brand-x", "BENZODIAZEPINE", ["benzodiazepine_comedication"]),
        ("LAMOTRIGINE", "", ["lamotrigine_comedication"]),
        ("tranylcypromine", "", ["maoi_comedication"]),
        ("lisdexamfetamine", "", ["stimulant_comedication"]),
        ("sertraline", "SSRI", []),
        ("propranolol", "beta blocker", []),
    ],
)
def test_co_medications_match_by_class_or_name_ignoring_case(
    name: str, drug_class: str, fired: list[str]
) -> None:
    assert codes(takes(name, drug_class)(_baseline())) == fired


@pytest.mark.parametrize(
    ("diagnoses", "fired"),
    [
        (("F41.1",), []),
        (("F40.01",), []),
        (("F40.10",), []),
        (("F42.2",), []),
        (("f41.9",), []),
        (("F41",), []),
        (("F32.1", "F40.11"), []),
        (("F43.10",), ["no_anxiety_disorder_diagnosis"]),
        (("F32.1",), ["no_anxiety_disorder_diagnosis"]),
        ((), ["no_anxiety_disorder_diagnosis"]),
    ],
)
def test_anxiety_diagnosis_is_any_of_f40_to_f42(
    diagnoses: tuple[str, ...], fired: list[str]
) -> None:
    assert codes(replace(_baseline(), diagnoses=diagnoses)) == fired


def test_unknown_checklist_item_is_not_ignored() -> None:
    proposal = propose(tick("glaucomma")(_baseline()))
    assert proposal.outcome is Outcome.NEEDS_REVIEW
    (reason,) = proposal.reasons
    assert reason.code == UNRECOGNISED_CHECKLIST_ITEM
    assert "glaucomma" in reason.text
    assert reason.source


def test_proposal_to_dict_has_the_issue_shape() -> None:
    ev = evaluation_from_dict(
        {
            "diagnoses": ["F41.1"],
            "prior_treatments": [
                {
                    "kind": "medication",
                    "name": "sertraline",
                    "drug_class": "SSRI",
                    "daily_dose_mg": 150,
                    "weeks": 10,
                },
                {"kind": "psychotherapy", "name": "CBT", "sessions": 12},
            ],
            "medications": [{"name": "lorazepam", "drug_class": "benzodiazepine"}],
            "contraindications": ["glaucoma"],
            "vitals": {
                "systolic": 128,
                "diastolic": 82,
                "heart_rate": 72,
                "spo2": 98,
                "weight_kg": 70.5,
                "height_cm": 172,
            },
            "notes": "...",
        }
    )
    data = proposal_to_dict(propose(ev))
    assert data["outcome"] == "needs_review"
    assert data["rules_version"] == RULES.version
    assert data["minimum_doses_version"] == DOSES.version
    assert [r["code"] for r in data["reasons"]] == ["glaucoma", "benzodiazepine_comedication"]
    for reason in data["reasons"]:
        assert set(reason) == {"code", "kind", "text", "source"}
        assert reason["kind"] == "relative_contraindication"
        assert reason["source"]
    assert data["adequate_trials"] == [
        {"kind": "medication", "name": "sertraline"},
        {"kind": "psychotherapy", "name": "CBT"},
    ]


def test_shipped_rules_all_cite_a_source_and_describe_themselves() -> None:
    for rule in RULES.rules:
        assert rule.source.strip(), rule.code
        assert rule.description.strip(), rule.code
