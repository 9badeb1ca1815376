"""One course's outcome on one measure: baseline, the score after each infusion and at the
follow-up points, and what those scores mean under a definition (response, remission, reliable
change, recovery, time to response, loss of response).

Pure: scores and infusion times in, a frozen ``CourseOutcome`` out. Percentages are compared in
integers ((baseline - score) * 100 >= percent * baseline), so a fall of exactly the threshold
counts, with no floating-point doubt at the tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ketaclinic.outcomes.rules.definitions import FollowUp, MeasureDefinition, OutcomeDefinitions

# A score counts for the last infusion when taken within this many days after it (after that it
# belongs to a follow-up point, which start at 14 days: McInnes 2022's 14-31 day window).
LAST_INFUSION_DAYS = 14


@dataclass(frozen=True)
class Score:
    at: datetime
    value: int


class Status(StrEnum):
    NO_BASELINE = "no_baseline"
    NO_SCORE_YET = "no_score_yet"
    REMITTED = "remitted"
    RESPONDING = "responding"
    LOST_RESPONSE = "lost_response"
    NOT_YET = "not_yet"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.NO_BASELINE: "No baseline score",
    Status.NO_SCORE_YET: "No score since the first infusion",
    Status.REMITTED: "Remitted",
    Status.RESPONDING: "Responding",
    Status.LOST_RESPONSE: "Lost response",
    Status.NOT_YET: "Not yet responding",
}


@dataclass(frozen=True)
class Assessment:
    """A post-baseline score judged against the baseline under one measure's definition."""

    score: int
    at: datetime
    change: int  # score - baseline (negative is better)
    percent_fall: float | None  # None when the baseline is 0
    responded: bool
    remitted: bool
    reliable_improvement: bool | None  # None when the definition has no points threshold
    reliable_deterioration: bool | None
    jt_improvement: bool | None  # Jacobson-Truax alternative, None without reliability/SD
    jt_deterioration: bool | None
    recovered: bool | None  # None when the measure has no caseness cut-off
    reliable_recovery: bool | None


@dataclass(frozen=True)
class CourseOutcome:
    measure: str
    definitions_label: str
    baseline: int | None
    baseline_at: datetime | None
    case_at_baseline: bool | None
    by_infusion: tuple[Assessment | None, ...]  # index 0 is infusion 1
    infusion_scores: tuple[int | None, ...]  # the raw scores, also where there is no baseline
    follow_ups: dict[str, Assessment | None]
    latest: Assessment | None
    status: Status
    response_infusion: int | None  # the infusion number whose score first met response
    response_days: int | None  # days from the first infusion to that score
    lost_response_days: int | None  # days from first response to the first score without it
    durability_days: int | None  # to loss (event) or to the last score (censored)
    durability_event: bool


def baseline_score(
    scores: Sequence[Score], first_infusion: datetime, window_days: int
) -> Score | None:
    """The last score before the first infusion, no older than ``window_days``."""
    earliest = first_infusion - timedelta(days=window_days)
    before = [s for s in scores if earliest <= s.at < first_infusion]
    return max(before, key=lambda s: s.at) if before else None


def assess(score: Score, baseline: int, measure: MeasureDefinition) -> Assessment:
    fall = baseline - score.value
    responded = baseline > 0 and fall * 100 >= measure.response_fall_percent * baseline
    remitted = score.value <= measure.remission_at_most
    points = measure.reliable_change_points
    jt = measure.jacobson_truax
    caseness = measure.caseness_at_least
    recovered: bool | None = None
    if caseness is not None:
        recovered = baseline >= caseness and score.value < caseness
    reliable = None if points is None else fall >= points
    jt_points = None if jt is None else jt.points
    reliable_recovery: bool | None = None
    if recovered is not None:
        criterion = (
            reliable if reliable is not None else (None if jt_points is None else fall >= jt_points)
        )
        reliable_recovery = None if criterion is None else (recovered and criterion)
    return Assessment(
        score=score.value,
        at=score.at,
        change=score.value - baseline,
        percent_fall=None if baseline == 0 else round(fall * 100 / baseline, 1),
        responded=responded,
        remitted=remitted,
        reliable_improvement=reliable,
        reliable_deterioration=None if points is None else -fall >= points,
        jt_improvement=None if jt_points is None else fall >= jt_points,
        jt_deterioration=None if jt_points is None else -fall >= jt_points,
        recovered=recovered,
        reliable_recovery=reliable_recovery,
    )


def _last_in(scores: Sequence[Score], start: datetime, end: datetime) -> Score | None:
    inside = [s for s in scores if start <= s.at < end]
    return max(inside, key=lambda s: s.at) if inside else None


def infusion_scores(scores: Sequence[Score], infusions: Sequence[datetime]) -> list[Score | None]:
    """The score belonging to each infusion number: the last one taken from that infusion's
    start until the next infusion starts (a pre-dose score shows what the infusions so far did);
    for the last infusion, until ``LAST_INFUSION_DAYS`` after it."""
    ordered = sorted(infusions)
    found: list[Score | None] = []
    for i, start in enumerate(ordered):
        end = ordered[i + 1] if i + 1 < len(ordered) else start + timedelta(days=LAST_INFUSION_DAYS)
        found.append(_last_in(scores, start, end))
    return found


def follow_up_score(
    scores: Sequence[Score], infusions: Sequence[datetime], follow_up: FollowUp
) -> Score | None:
    """The last score inside the follow-up's window, counted from the first or last infusion."""
    anchor = min(infusions) if follow_up.anchor == "first_infusion" else max(infusions)
    return _last_in(
        scores,
        anchor + timedelta(days=follow_up.days_from),
        anchor + timedelta(days=follow_up.days_to + 1),
    )


def course_outcome(
    *,
    measure_code: str,
    scores: Sequence[Score],
    infusions: Sequence[datetime],
    definitions: OutcomeDefinitions,
) -> CourseOutcome:
    """The course's outcome on one measure. ``infusions`` are the start times of the infusions
    given (cancelled bookings excluded); infusion number n is the n-th of them."""
    measure = definitions.measure(measure_code)
    ordered_infusions = sorted(infusions)
    raw = infusion_scores(scores, ordered_infusions) if ordered_infusions else []
    empty = CourseOutcome(
        measure=measure_code,
        definitions_label=definitions.label,
        baseline=None,
        baseline_at=None,
        case_at_baseline=None,
        by_infusion=tuple(None for _ in raw),
        infusion_scores=tuple(None if s is None else s.value for s in raw),
        follow_ups={f.code: None for f in definitions.follow_ups},
        latest=None,
        status=Status.NO_BASELINE,
        response_infusion=None,
        response_days=None,
        lost_response_days=None,
        durability_days=None,
        durability_event=False,
    )
    if not ordered_infusions:
        return empty
    first = ordered_infusions[0]
    base = baseline_score(scores, first, definitions.baseline_window_days)
    if base is None:
        return empty
    baseline = base.value
    by_infusion = tuple(None if s is None else assess(s, baseline, measure) for s in raw)
    follow_ups: dict[str, Assessment | None] = {}
    for follow_up in definitions.follow_ups:
        found = follow_up_score(scores, ordered_infusions, follow_up)
        follow_ups[follow_up.code] = None if found is None else assess(found, baseline, measure)
    after = sorted((s for s in scores if s.at >= first), key=lambda s: s.at)
    assessed = [assess(s, baseline, measure) for s in after]

    response_at: Assessment | None = next((a for a in assessed if a.responded), None)
    response_infusion = next(
        (n for n, a in enumerate(by_infusion, start=1) if a is not None and a.responded), None
    )
    lost_at: Assessment | None = None
    if response_at is not None:
        lost_at = next((a for a in assessed if a.at > response_at.at and not a.responded), None)
    latest = assessed[-1] if assessed else None

    if latest is None:
        status = Status.NO_SCORE_YET
    elif latest.responded and latest.remitted:
        status = Status.REMITTED
    elif latest.responded:
        status = Status.RESPONDING
    elif response_at is not None:
        status = Status.LOST_RESPONSE
    else:
        status = Status.NOT_YET

    durability_days: int | None = None
    durability_event = False
    if response_at is not None:
        end = lost_at if lost_at is not None else assessed[-1]
        durability_days = (end.at - response_at.at).days
        durability_event = lost_at is not None
    return CourseOutcome(
        measure=measure_code,
        definitions_label=definitions.label,
        baseline=baseline,
        baseline_at=base.at,
        case_at_baseline=(
            None if measure.caseness_at_least is None else baseline >= measure.caseness_at_least
        ),
        by_infusion=by_infusion,
        infusion_scores=tuple(None if s is None else s.value for s in raw),
        follow_ups=follow_ups,
        latest=latest,
        status=status,
        response_infusion=response_infusion,
        response_days=None if response_at is None else (response_at.at - first).days,
        lost_response_days=(
            None if lost_at is None or response_at is None else (lost_at.at - response_at.at).days
        ),
        durability_days=durability_days,
        durability_event=durability_event,
    )
