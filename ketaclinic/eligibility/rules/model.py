"""The eligibility engine's values: evaluations, conditions, rules, dose tables, proposals.

All frozen dataclasses; nothing here reads files or imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class RuleKind(StrEnum):
    ABSOLUTE_CONTRAINDICATION = "absolute_contraindication"
    RELATIVE_CONTRAINDICATION = "relative_contraindication"
    REQUIREMENT = "requirement"


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"


OUTCOME_OF_KIND = {
    RuleKind.ABSOLUTE_CONTRAINDICATION: Outcome.NOT_ELIGIBLE,
    RuleKind.RELATIVE_CONTRAINDICATION: Outcome.NEEDS_REVIEW,
    RuleKind.REQUIREMENT: Outcome.NEEDS_REVIEW,
}
KIND_ORDER = {
    RuleKind.ABSOLUTE_CONTRAINDICATION: 0,
    RuleKind.RELATIVE_CONTRAINDICATION: 1,
    RuleKind.REQUIREMENT: 2,
}
OUTCOME_SEVERITY = {Outcome.ELIGIBLE: 0, Outcome.NEEDS_REVIEW: 1, Outcome.NOT_ELIGIBLE: 2}


class RuleDataError(ValueError):
    """Rule or dose-table data that the engine refuses; ``problems`` lists every fault."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid rule data: " + "; ".join(self.problems))


class EvaluationDataError(ValueError):
    """An evaluation whose shape the engine cannot read; ``problems`` lists every fault."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid evaluation: " + "; ".join(self.problems))


# --- the evaluation ------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicationTrial:
    name: str
    drug_class: str = ""
    daily_dose_mg: Decimal | None = None
    weeks: Decimal | None = None
    response: str = ""
    side_effects: str = ""


@dataclass(frozen=True)
class PsychotherapyCourse:
    name: str
    sessions: int | None = None


PriorTreatment = MedicationTrial | PsychotherapyCourse


@dataclass(frozen=True)
class Medication:
    name: str
    drug_class: str = ""


@dataclass(frozen=True)
class Vitals:
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None


@dataclass(frozen=True)
class Evaluation:
    """What the rules read from a clinician's evaluation (the issue's field names)."""

    diagnoses: tuple[str, ...] = ()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    medications: tuple[Medication, ...] = ()
    contraindications: frozenset[str] = frozenset()
    vitals: Vitals | None = None
    notes: str = ""


# --- conditions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContraindicationTicked:
    code: str


@dataclass(frozen=True)
class VitalsAnyAtLeast:
    thresholds: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class VitalsMissing:
    fields: tuple[str, ...]


@dataclass(frozen=True)
class MedicationClassIn:
    classes: tuple[str, ...]


@dataclass(frozen=True)
class MedicationNameIn:
    names: tuple[str, ...]


@dataclass(frozen=True)
class DiagnosisPrefixIn:
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class NoDiagnosisPrefixIn:
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class FewerAdequateTrials:
    count: int


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


Condition = (
    ContraindicationTicked
    | VitalsAnyAtLeast
    | VitalsMissing
    | MedicationClassIn
    | MedicationNameIn
    | DiagnosisPrefixIn
    | NoDiagnosisPrefixIn
    | FewerAdequateTrials
    | AllOf
    | AnyOf
    | Not
)


@dataclass(frozen=True)
class Rule:
    code: str
    kind: RuleKind
    description: str
    condition: Condition
    source: str


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]


# --- adequate trials -----------------------------------------------------------------------


@dataclass(frozen=True)
class MinimumDose:
    drug: str
    drug_class: str
    minimum_daily_mg: Decimal
    source: str
    confirmed: bool


@dataclass(frozen=True)
class PsychotherapyStandard:
    modality: str
    minimum_sessions: int
    diagnosis_prefixes: tuple[str, ...]  # empty: counts for every diagnosis
    source: str


@dataclass(frozen=True)
class MinimumDoses:
    """What makes a first-line trial adequate: dose table, duration, psychotherapies."""

    version: str
    drug_classes: tuple[str, ...]
    minimum_weeks: Decimal
    doses: Mapping[str, MinimumDose]
    psychotherapies: tuple[PsychotherapyStandard, ...]
    source: str


@dataclass(frozen=True)
class AdequateTrial:
    kind: str  # "medication" or "psychotherapy"
    name: str  # normalised drug name or modality


@dataclass(frozen=True)
class TrialAssessment:
    treatment: PriorTreatment
    adequate: bool
    why: str
    counts_as: AdequateTrial | None  # None when inadequate or already counted


# --- proposals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    kind: RuleKind
    text: str
    source: str


@dataclass(frozen=True)
class Proposal:
    """An immutable eligibility proposal; it keeps the texts of the rules that fired."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    rules_version: str
    minimum_doses_version: str
    adequate_trials: tuple[AdequateTrial, ...]
