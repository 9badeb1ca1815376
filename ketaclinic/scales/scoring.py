"""Scoring rating scales and comparing scores with baseline: pure, typed functions.

Every clinical number (weights, bands, cut-offs, thresholds, flags, risk rules) comes from the
``Instrument`` definition; this module only applies them. No Django import: services call these.

Answers are given as ``{link_id: weight}``: the weight of the chosen answer option (FHIR
``ordinalValue`` / ``itemWeight``), never the answer code. For every built-in instrument the
weight is also the number the rater picks (GAD-7 0-3, BPRS+ 1-7, C-SSRS no 0 / yes 1).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal, Protocol, TypeVar

from ketaclinic.scales.instruments.definition import (
    Band,
    Instrument,
    Item,
    ResponseRule,
    Severity,
)

ProblemCode = Literal["unknown_item", "not_an_integer", "invalid_value", "missing", "not_asked"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a response, for the item ``link_id``."""

    link_id: str
    code: ProblemCode
    message: str


class ResponseInvalid(ValueError):
    """The response cannot be scored; ``problems`` lists all of them at once.

    ``flags`` are the flags that the valid answers present raise all the same: a flag rule
    holds "whatever the total" (PHQ-9 item 9), so a response refused as incomplete still
    raises it, and the caller must act on it although there is no total.
    """

    def __init__(
        self,
        instrument_code: str,
        problems: Iterable[Problem],
        flags: Iterable[RaisedFlag] = (),
    ) -> None:
        self.instrument_code = instrument_code
        self.problems = tuple(problems)
        self.flags = tuple(flags)
        summary = "; ".join(f"{p.link_id}: {p.message}" for p in self.problems)
        super().__init__(f"{instrument_code}: {summary}")

    @property
    def missing(self) -> tuple[str, ...]:
        """The link ids of the items that had to be answered and were not."""
        return tuple(p.link_id for p in self.problems if p.code == "missing")


class TotalOutOfRange(ValueError):
    """A total outside the instrument's minimum..maximum."""


class RuleNotDefined(LookupError):
    """The instrument defines no such rule (e.g. no remission threshold)."""


@dataclass(frozen=True, slots=True)
class RaisedFlag:
    code: str
    severity: Severity
    link_id: str
    message: str
    source: str


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The score of one complete (or allowed-prorated) response.

    ``total`` is None for instruments without a total (C-SSRS), which have ``risk_level``.
    ``subscales`` maps subscale name to its total; ``band`` is the label of the severity band
    (None when the instrument has no bands); ``cutoffs_met`` the labels of the cut-offs met.
    """

    instrument_code: str
    total: int | None
    subscales: Mapping[str, int] = field(default_factory=dict)
    band: str | None = None
    cutoffs_met: tuple[str, ...] = ()
    flags: tuple[RaisedFlag, ...] = ()
    risk_level: str | None = None
    prorated: bool = False
    missing: tuple[str, ...] = ()


# --- scoring -------------------------------------------------------------------------------


def _value_problems(instrument: Instrument, answers: Mapping[str, int]) -> list[Problem]:
    known = set(instrument.link_ids)
    problems: list[Problem] = []
    for link_id, value in answers.items():
        if link_id not in known:
            problems.append(Problem(link_id, "unknown_item", "is not an item of this instrument"))
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(link_id, "not_an_integer", f"{value!r} is not an integer"))
        elif value not in instrument.item(link_id).weights:
            allowed = ", ".join(str(weight) for weight in instrument.item(link_id).weights)
            problems.append(
                Problem(link_id, "invalid_value", f"{value} is not one of the answers ({allowed})")
            )
    return problems


def _enabled(item: Item, valid: Mapping[str, int], asked: Mapping[str, bool | None]) -> bool | None:
    """Whether the skip logic asks ``item``.

    None when it cannot be decided because a controlling item is itself wrong or missing
    (that item is reported instead). A controlling item that was skipped holds no condition.
    Controlling items come before the items they control (checked on load).
    """
    holds_all = True
    for condition in item.enable_when:
        if condition.link_id in valid:
            holds_all = holds_all and condition.holds(valid)
        elif asked.get(condition.link_id) is False:
            holds_all = False
        else:
            return None
    return holds_all


def score(instrument: Instrument, answers: Mapping[str, int]) -> ScoreResult:
    """Score ``answers`` (``{link_id: weight}``) on ``instrument``.

    Raises ``ResponseInvalid`` listing every problem at once: unknown link ids, values that are
    not one of the item's weights, items the skip logic asks that are missing, and items it
    does not ask that were answered. Missing items are refused unless the instrument defines a
    prorating rule and no more than its ``max_missing`` items are missing.
    """
    problems = _value_problems(instrument, answers)
    invalid = {p.link_id for p in problems}
    valid = {k: v for k, v in answers.items() if k not in invalid}

    missing: list[str] = []
    asked: dict[str, bool | None] = {}
    for item in instrument.items:
        enabled = asked[item.link_id] = _enabled(item, valid, asked)
        if enabled is None:
            continue  # the controlling answer is reported instead
        if enabled and item.link_id not in answers:
            missing.append(item.link_id)
        elif not enabled and item.link_id in answers and item.link_id not in invalid:
            problems.append(
                Problem(item.link_id, "not_asked", "must be absent: the skip logic skips it")
            )

    if missing and not _may_prorate(instrument, missing):
        problems += [Problem(link_id, "missing", "is not answered") for link_id in missing]
    flags = flags_raised(instrument, valid)
    if problems:
        raise ResponseInvalid(instrument.code, problems, flags)

    if instrument.scoring.method == "risk_level":
        return ScoreResult(
            instrument_code=instrument.code,
            total=None,
            flags=flags,
            risk_level=risk_level(instrument, valid),
        )

    total = _sum(instrument.link_ids, valid)
    subscales = {sub.name: _sum(sub.link_ids, valid) for sub in instrument.subscales}
    band = band_for(instrument, total)
    return ScoreResult(
        instrument_code=instrument.code,
        total=total,
        subscales=subscales,
        band=band.label if band else None,
        cutoffs_met=tuple(c.label for c in instrument.cutoffs if c.met_by(total)),
        flags=flags,
        prorated=bool(missing),
        missing=tuple(missing),
    )


def flags_raised(instrument: Instrument, answers: Mapping[str, int]) -> tuple[RaisedFlag, ...]:
    """The instrument's flag rules that hold on the answers present, complete or not.

    A flag rule looks at one item "whatever the total", so it is decided by the answers
    given: answers that are not one of their item's weights (or not an item) hold no
    condition, and a missing item raises nothing. ``score`` calls this on every response,
    including one it refuses (``ResponseInvalid.flags``).
    """
    valid = {
        link_id: value
        for link_id, value in answers.items()
        if link_id in instrument.link_ids
        and isinstance(value, int)
        and not isinstance(value, bool)
        and value in instrument.item(link_id).weights
    }
    return tuple(
        RaisedFlag(
            code=flag.code,
            severity=flag.severity,
            link_id=flag.when.link_id,
            message=flag.message,
            source=flag.source,
        )
        for flag in instrument.flags
        if flag.when.holds(valid)
    )


def _may_prorate(instrument: Instrument, missing: list[str]) -> bool:
    """Whether the prorating rule covers these missing items: few enough of them, and every
    total to compute (the whole scale and each subscale) keeps at least one answered item."""
    rule = instrument.prorating
    if rule is None or not 0 < len(missing) <= rule.max_missing:
        return False
    groups = [instrument.link_ids, *(sub.link_ids for sub in instrument.subscales)]
    return all(set(group) - set(missing) for group in groups)


def _sum(link_ids: Iterable[str], answers: Mapping[str, int]) -> int:
    """Sum of the answered items; when some are missing (only when ``_may_prorate`` allowed
    it), the mean of the answered items times the item count, rounded half up."""
    expected = tuple(link_ids)
    answered = [answers[link_id] for link_id in expected if link_id in answers]
    if len(answered) == len(expected):
        return sum(answered)
    value = Decimal(sum(answered) * len(expected)) / Decimal(len(answered))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def risk_level(instrument: Instrument, answers: Mapping[str, int]) -> str:
    """The first risk rule any of whose conditions holds, else the default level.

    ``answers`` must already be valid (``score`` checks them); unanswered items hold no
    condition.
    """
    if instrument.risk is None:
        raise RuleNotDefined(f"{instrument.code} defines no risk levels")
    for rule in instrument.risk.rules:
        if any(condition.holds(answers) for condition in rule.any_of):
            return rule.level
    return instrument.risk.default_level


def band_for(instrument: Instrument, total: int, variant: str | None = None) -> Band | None:
    """The severity band containing ``total`` (None when the instrument has no bands).

    ``variant`` picks an alternative band set (e.g. ``"with_agoraphobia"`` for PDSS-SR).
    A total outside the instrument's range raises ``TotalOutOfRange``.
    """
    low, high = instrument.scoring.min_total, instrument.scoring.max_total
    if low is None or high is None:
        raise RuleNotDefined(f"{instrument.code} has no total")
    if isinstance(total, bool) or not isinstance(total, int) or not low <= total <= high:
        raise TotalOutOfRange(f"{instrument.code}: total {total!r} is outside {low}..{high}")
    for band in instrument.bands_for(variant):
        if band.contains(total):
            return band
    return None


# --- change from baseline ------------------------------------------------------------------


class Administration(Protocol):
    """Anything with an aware ``administered_at`` (a model row, a dataclass, ...)."""

    @property
    def administered_at(self) -> datetime: ...


AdministrationT = TypeVar("AdministrationT", bound=Administration)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")


def baseline_select(
    administrations: Iterable[AdministrationT], first_infusion_at: datetime | None
) -> AdministrationT | None:
    """The baseline: the last administration strictly before the course's first infusion.

    None when there is no infusion yet or no administration before it. Of two administrations
    at the same moment, the later one in ``administrations`` wins.
    """
    if first_infusion_at is None:
        return None
    _require_aware(first_infusion_at, "first_infusion_at")
    baseline: AdministrationT | None = None
    for administration in administrations:
        _require_aware(administration.administered_at, "administered_at")
        if administration.administered_at >= first_infusion_at:
            continue
        if baseline is None or administration.administered_at >= baseline.administered_at:
            baseline = administration
    return baseline


def course_first_infusion(infusions: Iterable[tuple[Hashable, datetime]]) -> datetime | None:
    """The first infusion of the current course: of ``(course, infusion start)`` pairs, the
    earliest start among those of the course that holds the latest infusion.

    A patient treated again in a later course gets a new baseline before that course's first
    infusion. None when there is no infusion.
    """
    by_course: dict[Hashable, list[datetime]] = {}
    latest: tuple[datetime, Hashable] | None = None
    for course, moment in infusions:
        _require_aware(moment, "infusion start")
        by_course.setdefault(course, []).append(moment)
        if latest is None or moment > latest[0]:
            latest = (moment, course)
    if latest is None:
        return None
    return min(by_course[latest[1]])


def _check_total(total: int, what: str) -> None:
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"{what} must be a non-negative integer total, not {total!r}")


def percent_change(baseline: int | None, current: int) -> Decimal | None:
    """(baseline - current) / baseline * 100: positive is improvement on these scales.

    None when there is no baseline or the baseline is 0 (no percent change from zero).
    Exact: the Decimal is computed at the context's precision (28 digits) without floats.
    """
    _check_total(current, "current")
    if baseline is None:
        return None
    _check_total(baseline, "baseline")
    if baseline == 0:
        return None
    return Decimal((baseline - current) * 100) / Decimal(baseline)


def _drop_meets(rule: ResponseRule, baseline: int, current: int) -> bool:
    # Exact rational comparison, so that e.g. 35% of 20 is never lost to rounding.
    drop = Fraction(baseline - current, baseline) * 100
    threshold = Fraction(rule.percent_drop)
    return drop >= threshold if rule.comparator == ">=" else drop > threshold


def is_response(instrument: Instrument, baseline: int | None, current: int) -> bool | None:
    """Whether the drop from baseline meets the instrument's response rule.

    None when there is no baseline or it is 0; ``RuleNotDefined`` when the instrument has no
    response rule.
    """
    if instrument.response is None:
        raise RuleNotDefined(f"{instrument.code} defines no response")
    _check_total(current, "current")
    if baseline is None or baseline == 0:
        return None
    _check_total(baseline, "baseline")
    return _drop_meets(instrument.response, baseline, current)


def is_partial_response(instrument: Instrument, baseline: int | None, current: int) -> bool | None:
    """Partial response (e.g. Y-BOCS 25-35% drop): meets the partial rule but not response."""
    if instrument.partial_response is None or instrument.response is None:
        raise RuleNotDefined(f"{instrument.code} defines no partial response")
    full = is_response(instrument, baseline, current)
    if full is None or baseline is None:
        return None
    return not full and _drop_meets(instrument.partial_response, baseline, current)


def is_remission(instrument: Instrument, current: int) -> bool:
    """Whether ``current`` is below (``<``) or at most (``<=``) the remission threshold."""
    if instrument.remission is None:
        raise RuleNotDefined(f"{instrument.code} defines no remission")
    _check_total(current, "current")
    rule = instrument.remission
    if rule.comparator == "<":
        return current < rule.threshold
    return current <= rule.threshold


def is_meaningful_improvement(
    instrument: Instrument, baseline: int | None, current: int
) -> bool | None:
    """Whether the drop from baseline reaches the instrument's meaningful change in points
    (e.g. GAD-7: 4 points, Toussaint 2020). None when there is no baseline."""
    if instrument.meaningful_change is None:
        raise RuleNotDefined(f"{instrument.code} defines no meaningful change")
    _check_total(current, "current")
    if baseline is None:
        return None
    _check_total(baseline, "baseline")
    rule = instrument.meaningful_change
    drop = baseline - current
    return drop >= rule.points if rule.comparator == ">=" else drop > rule.points
