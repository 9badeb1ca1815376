"""How a goal's measure stands: a scale threshold against the latest score, or a plain target
with a date. Pure, so the staff page, the portal and FHIR say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Comparator(StrEnum):
    """The direction of a scale goal ("GAD-7 under 10" is ``lt`` 10)."""

    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"

    @property
    def words(self) -> str:
        return COMPARATOR_WORDS[self]

    @property
    def fhir(self) -> str:
        """FHIR Quantity.comparator."""
        return {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}[self.value]


COMPARATOR_WORDS = {
    Comparator.LT: "under",
    Comparator.LE: "at most",
    Comparator.GT: "over",
    Comparator.GE: "at least",
}


class MeasureKind(StrEnum):
    SCALE = "scale"
    TARGET = "target"


class Standing(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_SCORE = "no_score"
    OPEN = "open"  # a plain target whose date has not come
    DUE = "due"  # a plain target whose date has passed: to be talked through at review


@dataclass(frozen=True)
class ScaleMeasure:
    instrument: str
    comparator: Comparator
    threshold: int


@dataclass(frozen=True)
class TargetMeasure:
    target: str
    target_date: date | None


def threshold_met(score: int, comparator: Comparator, threshold: int) -> bool:
    if comparator is Comparator.LT:
        return score < threshold
    if comparator is Comparator.LE:
        return score <= threshold
    if comparator is Comparator.GT:
        return score > threshold
    return score >= threshold


def scale_standing(measure: ScaleMeasure, latest: int | None) -> Standing:
    """Where the latest total stands against the threshold; no score yet is its own state."""
    if latest is None:
        return Standing.NO_SCORE
    if threshold_met(latest, measure.comparator, measure.threshold):
        return Standing.MET
    return Standing.NOT_MET


def target_standing(measure: TargetMeasure, today: date) -> Standing:
    """A plain-language target is judged by people at review; the rule only says whether its
    date has passed."""
    if measure.target_date is not None and measure.target_date < today:
        return Standing.DUE
    return Standing.OPEN
