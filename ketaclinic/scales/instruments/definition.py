"""Typed, frozen definitions of rating-scale instruments.

An instrument is data: its items, answer weights, subscales, severity bands, cut-offs and the
response, remission and flag rules, each number with the ``source`` it comes from. Nothing here
scores anything (see ``ketaclinic.scales.scoring``); ``parsing`` builds these from JSON.
Pure Python, no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Comparator = Literal["<", "<=", "==", ">=", ">"]
DropComparator = Literal[">=", ">"]
UpperComparator = Literal["<", "<="]
Respondent = Literal["self", "clinician", "nurse"]
Severity = Literal["urgent", "warning", "info"]
ScoringMethod = Literal["sum", "risk_level"]
ProratingMethod = Literal["mean_of_answered_items"]
Rounding = Literal["half_up"]


class InstrumentDefinitionInvalid(ValueError):
    """A definition that cannot be used, with every problem found (``path: message``)."""

    def __init__(self, code: str, problems: Sequence[str]) -> None:
        self.code = code
        self.problems = tuple(problems)
        super().__init__(f"instrument {code!r}: " + "; ".join(self.problems))


def compare(left: int | Decimal, comparator: Comparator, right: int | Decimal) -> bool:
    """``left <comparator> right``; the one place where a comparator string becomes an operator."""
    if comparator == "<":
        return left < right
    if comparator == "<=":
        return left <= right
    if comparator == "==":
        return left == right
    if comparator == ">=":
        return left >= right
    return left > right


@dataclass(frozen=True, slots=True)
class AnswerOption:
    """One answer. ``weight`` is what the item contributes to the score (FHIR ``ordinalValue``
    / ``itemWeight``); ``loinc`` is the LOINC answer code (LA...) where one exists."""

    weight: int
    display: str
    loinc: str | None


@dataclass(frozen=True, slots=True)
class Condition:
    """``answer to link_id <comparator> value``; false when the item was not answered."""

    link_id: str
    comparator: Comparator
    value: int

    def holds(self, answers: Mapping[str, int]) -> bool:
        if self.link_id not in answers:
            return False
        return compare(answers[self.link_id], self.comparator, self.value)


@dataclass(frozen=True, slots=True)
class Item:
    """A scored item. ``enable_when`` (all must hold) is the skip logic, as in FHIR: an enabled
    item must be answered, a disabled one must be absent."""

    link_id: str
    loinc: str | None
    text: str | None
    options: tuple[AnswerOption, ...]
    enable_when: tuple[Condition, ...] = ()

    @property
    def weights(self) -> tuple[int, ...]:
        return tuple(option.weight for option in self.options)

    @property
    def min_weight(self) -> int:
        return min(self.weights)

    @property
    def max_weight(self) -> int:
        return max(self.weights)


@dataclass(frozen=True, slots=True)
class Subscale:
    name: str
    link_ids: tuple[str, ...]
    source: str
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class Band:
    """A severity band; ``low`` and ``high`` are both inclusive."""

    low: int
    high: int
    label: str
    source: str
    confirmed: bool = True

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True, slots=True)
class BandSet:
    """An alternative set of bands for a named variant (e.g. PDSS with agoraphobia)."""

    name: str
    bands: tuple[Band, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Cutoff:
    """A single threshold on the total (screen positive, discharge ready, ...)."""

    comparator: Comparator
    value: int
    label: str
    source: str
    confirmed: bool = True

    def met_by(self, total: int) -> bool:
        return compare(total, self.comparator, self.value)


@dataclass(frozen=True, slots=True)
class ResponseRule:
    """Response is a drop from baseline of ``percent_drop`` percent (``>=`` or ``>``)."""

    percent_drop: Decimal
    comparator: DropComparator
    source: str
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class RemissionRule:
    """Remission is a total ``<`` or ``<=`` ``threshold``."""

    threshold: int
    comparator: UpperComparator
    source: str
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class MeaningfulChange:
    """A meaningful improvement is a drop of ``points`` or more (``>=``) / more than (``>``)."""

    points: int
    comparator: DropComparator
    source: str
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class FlagRule:
    """Raise ``code`` with ``severity`` when ``when`` holds, whatever the total."""

    code: str
    severity: Severity
    when: Condition
    message: str
    source: str


@dataclass(frozen=True, slots=True)
class RiskRule:
    """``level`` applies when any of ``any_of`` holds; rules are tried in order."""

    level: str
    any_of: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class RiskLevelRule:
    """Ordered risk rules (first match wins); ``default_level`` when none matches."""

    rules: tuple[RiskRule, ...]
    default_level: str
    loinc: str | None
    source: str
    confirmed: bool = True

    @property
    def levels(self) -> tuple[str, ...]:
        return (*(rule.level for rule in self.rules), self.default_level)


@dataclass(frozen=True, slots=True)
class ProratingRule:
    """Prorating allowed by the instrument's manual: up to ``max_missing`` items may be missing;
    the total is the sum of answered items times items / answered, rounded half up."""

    max_missing: int
    method: ProratingMethod
    rounding: Rounding
    source: str


@dataclass(frozen=True, slots=True)
class Scoring:
    method: ScoringMethod
    convention: str | None
    min_total: int | None
    max_total: int | None


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    name: str
    source: str
    confirmed: bool
    licence: str
    loinc_panel: str | None
    loinc_total: str | None
    recall_period: str | None
    respondents: tuple[Respondent, ...]
    preamble: str | None
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    scoring: Scoring
    bands: tuple[Band, ...]
    band_variants: tuple[BandSet, ...]
    cutoffs: tuple[Cutoff, ...]
    response: ResponseRule | None
    partial_response: ResponseRule | None
    remission: RemissionRule | None
    meaningful_change: MeaningfulChange | None
    flags: tuple[FlagRule, ...]
    risk: RiskLevelRule | None
    prorating: ProratingRule | None
    notes: tuple[str, ...]

    @property
    def link_ids(self) -> tuple[str, ...]:
        return tuple(item.link_id for item in self.items)

    def item(self, link_id: str) -> Item:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise KeyError(link_id)

    def bands_for(self, variant: str | None = None) -> tuple[Band, ...]:
        if variant is None:
            return self.bands
        for band_set in self.band_variants:
            if band_set.name == variant:
                return band_set.bands
        raise KeyError(variant)
