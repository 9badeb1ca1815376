"""The outcomes card of the staff's patient page: each course's status, baseline, latest score,
the score after each infusion and at the follow-up points, per measure.

Made from the kept outcome rows (``CourseOutcome`` and ``TimepointResult``, kept current by the
change triggers of ``services.upkeep``) when they are current for the patient: the triggers are
installed, the last full rebuild ran under the definitions in use, and no write since has
marked the patient dirty (the mark is made in the writer's own transaction, so a committed
change is never missed; ``services.upkeep.kept_rows_current`` checks it in one statement).
Otherwise it is made from the live computation over the source rows (``summary``). Either way
the card is the same (``tests/test_card.py`` holds the two equal on the outcomes cohorts); the
kept rows spare the page reading and judging every score of a long history on each view.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import UUIDField

from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.outcomes.models import CourseOutcome, Timepoint
from ketaclinic.outcomes.rules import Assessment, Status
from ketaclinic.outcomes.rules.definitions import (
    CORE_MEASURES,
    MeasureDefinition,
    OutcomeDefinitions,
)
from ketaclinic.outcomes.selectors.summary import CourseSummary
from ketaclinic.scales.models import Administration


@dataclass(frozen=True)
class CardScore:
    score: int
    change: int  # score - baseline
    percent_fall: float | None
    responded: bool | None


@dataclass(frozen=True)
class CardMeasure:
    definition: MeasureDefinition
    status: Status
    baseline: int | None
    baseline_at: datetime | None
    latest: CardScore | None
    response_infusion: int | None
    infusion_scores: tuple[int | None, ...]  # index 0 is infusion 1
    follow_ups: dict[str, CardScore | None]  # by follow-up code, every code of the definitions
    definitions_label: str


@dataclass(frozen=True)
class CardCourse:
    course_id: Any
    protocol_code: str
    protocol_name: str
    route: str
    infusions: int
    first_infusion_at: datetime
    measures: tuple[CardMeasure, ...]
    follow_ups: tuple[tuple[str, str], ...]  # (code, label) in the order of the definitions


def _card_score(assessment: Assessment | None) -> CardScore | None:
    if assessment is None:
        return None
    return CardScore(
        assessment.score, assessment.change, assessment.percent_fall, assessment.responded
    )


def card_from_summary(courses: list[CourseSummary]) -> list[CardCourse]:
    """The card from the live computation (``summary.patient_outcome_summary``)."""
    return [
        CardCourse(
            course_id=course.course_id,
            protocol_code=course.protocol_code,
            protocol_name=course.protocol_name,
            route=course.route,
            infusions=course.infusions,
            first_infusion_at=course.first_infusion_at,
            measures=tuple(
                CardMeasure(
                    definition=m.definition,
                    status=m.outcome.status,
                    baseline=m.outcome.baseline,
                    baseline_at=m.outcome.baseline_at,
                    latest=_card_score(m.outcome.latest),
                    response_infusion=m.outcome.response_infusion,
                    infusion_scores=m.outcome.infusion_scores,
                    follow_ups={
                        code: _card_score(m.outcome.follow_ups.get(code))
                        for code, _ in course.follow_ups
                    },
                    definitions_label=m.outcome.definitions_label,
                )
                for m in course.measures
            ),
            follow_ups=tuple(course.follow_ups),
        )
        for course in courses
    ]


_OUTCOME_COLUMNS = (
    "course_id",
    "measure",
    "disorder",
    "protocol_code",
    "route",
    "first_infusion_at",
    "infusions_given",
    "baseline",
    "baseline_at",
    "status",
    "response_infusion",
    "definitions_label",
    "course__protocol__name",
    "timepoints__timepoint",
    "timepoints__infusion_number",
    "timepoints__score",
    "timepoints__percent_fall",
    "timepoints__responded",
)

# Each kept outcome row of the patient with its timepoints (a row per timepoint, or one with
# none), compiled once per process (``lib.compiled_read``).
_KEPT = CompiledRead(
    lambda: (
        CourseOutcome.objects.filter(patient_id=Slot("patient", UUIDField()))
        .order_by("course_id", "measure")
        .values(*_OUTCOME_COLUMNS)
    )
)


_SCORED = CompiledRead(
    lambda: (
        Administration.objects.filter(patient_id=Slot("patient", UUIDField()), total__isnull=False)
        .values("instrument")
        .distinct()
        .order_by()
    )
)


def _scored_measures(patient_id: UUID) -> set[str]:
    """The instruments the patient has a score on."""
    return {row["instrument"] for row in _SCORED.dicts(patient=patient_id)}


def _measure_order(codes: set[str], disorder: str, defs: OutcomeDefinitions) -> list[str]:
    """As the live card: the core measures, the disorder's own, then the others by code."""
    first = list(CORE_MEASURES)
    if disorder in defs.disorders:
        first += list(defs.disorders[disorder].specific_measures)
    ordered = [code for code in dict.fromkeys(first) if code in codes]
    return ordered + sorted(codes - set(ordered))


def card_from_kept_rows(patient_id: UUID, defs: OutcomeDefinitions) -> list[CardCourse]:
    """The card from the kept rows (the caller has checked they are current)."""
    follow_up_codes = tuple((f.code, f.label) for f in defs.follow_ups)
    outcomes: dict[tuple[Any, str], dict[str, Any]] = {}
    points: dict[tuple[Any, str], list[dict[str, Any]]] = defaultdict(list)
    for row in _KEPT.dicts(patient=patient_id):
        key = (row["course_id"], row["measure"])
        outcomes.setdefault(key, row)
        if row["timepoints__timepoint"] is not None:
            points[key].append(row)
    # A measure is shown when the patient has a score on it; a row with neither a baseline nor
    # a timepoint may still have one (taken before the baseline window, or between windows).
    unsure = [k for k, row in outcomes.items() if row["baseline"] is None and not points[k]]
    scored = _scored_measures(patient_id) if unsure else set()
    # each course's first row (the course's own columns) and its shown measures' keys
    courses: dict[Any, tuple[dict[str, Any], list[tuple[Any, str]]]] = {}
    for key, row in outcomes.items():
        _, shown = courses.setdefault(row["course_id"], (row, []))
        if row["baseline"] is not None or points[key] or row["measure"] in scored:
            shown.append(key)
    cards: list[CardCourse] = []
    for course_id, (first, keys) in courses.items():
        by_code = {measure: (course_id, measure) for _, measure in keys}
        measures = []
        for code in _measure_order(set(by_code), first["disorder"], defs):
            row = outcomes[by_code[code]]
            baseline = row["baseline"]
            infusion_scores: list[int | None] = [None] * row["infusions_given"]
            follow_ups: dict[str, CardScore | None] = dict.fromkeys(
                (c for c, _ in follow_up_codes), None
            )
            latest: CardScore | None = None
            for point in points[by_code[code]]:
                timepoint, score = point["timepoints__timepoint"], point["timepoints__score"]
                if timepoint == Timepoint.INFUSION:
                    infusion_scores[point["timepoints__infusion_number"] - 1] = score
                    continue
                judged = CardScore(
                    score,
                    score - baseline,
                    point["timepoints__percent_fall"],
                    point["timepoints__responded"],
                )
                if timepoint == Timepoint.LATEST:
                    latest = judged
                else:
                    follow_ups[timepoint] = judged
            measures.append(
                CardMeasure(
                    definition=defs.measure(code),
                    status=Status(row["status"]),
                    baseline=baseline,
                    baseline_at=row["baseline_at"],
                    latest=latest,
                    response_infusion=row["response_infusion"],
                    infusion_scores=tuple(infusion_scores),
                    follow_ups=follow_ups,
                    definitions_label=row["definitions_label"],
                )
            )
        cards.append(
            CardCourse(
                course_id=course_id,
                protocol_code=first["protocol_code"],
                protocol_name=first["course__protocol__name"],
                route=first["route"],
                infusions=first["infusions_given"],
                first_infusion_at=first["first_infusion_at"],
                measures=tuple(measures),
                follow_ups=follow_up_codes,
            )
        )
    cards.sort(key=lambda c: c.first_infusion_at, reverse=True)
    return cards
