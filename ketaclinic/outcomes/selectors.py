"""Reads of the outcomes app: a patient's outcome summary (computed live from the source rows)
and the clinic's figures (database aggregates over the computed rows, never every response in
memory at once). Both check the role and record the read in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session, SessionAlert
from ketaclinic.outcomes.models import CourseOutcome, OutcomeRefresh, TimepointResult
from ketaclinic.outcomes.rules import CourseOutcome as RuleOutcome
from ketaclinic.outcomes.rules import Interval, course_outcome, kaplan_meier, wilson
from ketaclinic.outcomes.rules.definitions import (
    MeasureDefinition,
    OutcomeDefinitions,
    shipped_definitions,
)
from ketaclinic.outcomes.rules.published import (
    Comparison,
    comparisons,
    shipped_published,
    timepoint_text,
)
from ketaclinic.outcomes.rules.stats import KMStep, percentile_cont
from ketaclinic.outcomes.sources import GIVEN, patient_rows
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to

# ---------------------------------------------------------------- the patient's summary


@dataclass(frozen=True)
class MeasureSummary:
    definition: MeasureDefinition
    outcome: RuleOutcome


@dataclass(frozen=True)
class CourseSummary:
    course_id: Any
    protocol_code: str
    protocol_name: str
    route: str
    infusions: int
    first_infusion_at: datetime
    measures: list[MeasureSummary]
    follow_ups: list[tuple[str, str]]  # (code, label) in the order of the definitions


def patient_outcome_summary(
    user: Any, patient: Patient, *, course_id: Any = None, audit: bool = True
) -> list[CourseSummary]:
    """Each course's outcome per measure, newest course first (or only ``course_id``'s).
    Patient.DoesNotExist for a patient the user may not see (a patient sees only their own).
    Audited read, unless ``audit=False``: the patient page shows it inside a page whose read
    is already recorded once, as the patient's (one page read, one event)."""
    # Staff who may read any record need no query to know they may read this one.
    if not user_can(user, "patient.view_any") and not (
        patients_visible_to(user).filter(pk=patient.pk).exists()
    ):
        raise Patient.DoesNotExist
    defs = shipped_definitions()
    courses: list[CourseSummary] = []
    for rows in patient_rows([patient.pk]):
        disorder = defs.disorder_of(rows.diagnoses)
        wanted = ["gad7", "phq9"]
        if disorder is not None:
            wanted += list(defs.disorders[disorder].specific_measures)
        wanted += [m for m in rows.scores if m in defs.measures]
        for course in rows.courses:
            if course_id is not None and course.course_id != course_id:
                continue
            measures = [
                MeasureSummary(
                    defs.measure(code),
                    course_outcome(
                        measure_code=code,
                        scores=rows.scores.get(code, []),
                        infusions=course.infusions,
                        definitions=defs,
                    ),
                )
                for code in dict.fromkeys(wanted)
                if code in rows.scores
            ]
            courses.append(
                CourseSummary(
                    course_id=course.course_id,
                    protocol_code=course.protocol_code,
                    protocol_name=course.protocol_name,
                    route=course.route,
                    infusions=len(course.infusions),
                    first_infusion_at=min(course.infusions),
                    measures=measures,
                    follow_ups=[(f.code, f.label) for f in defs.follow_ups],
                )
            )
    if audit:
        audit_record(
            actor=user,
            action=Action.READ,
            object_type="OutcomeSummary",
            object_id=patient.pk,
            patient_id=patient.pk,
        )
    courses.sort(key=lambda c: c.first_infusion_at, reverse=True)
    return courses


# ---------------------------------------------------------------- the clinic's figures


@dataclass(frozen=True)
class Filters:
    measure: str = "gad7"
    timepoint: str = "post_induction"  # "infusion:N", a follow-up code, or "latest"
    disorder: str = ""
    protocol: str = ""
    route: str = ""
    clinician: int | None = None
    period_from: date | None = None
    period_to: date | None = None

    @property
    def infusion_number(self) -> int | None:
        if self.timepoint.startswith("infusion:"):
            return int(self.timepoint.split(":", 1)[1])
        return None


@dataclass(frozen=True)
class Rate:
    """A count with both denominators: completers (with data) and intention to treat."""

    count: int
    with_data: int
    started: int

    @property
    def missing(self) -> int:
        return self.started - self.with_data

    @property
    def completers(self) -> float | None:
        return None if self.with_data == 0 else 100 * self.count / self.with_data

    @property
    def itt(self) -> float | None:
        return None if self.started == 0 else 100 * self.count / self.started

    @property
    def completers_ci(self) -> Interval | None:
        return wilson(self.count, self.with_data)

    @property
    def itt_ci(self) -> Interval | None:
        return wilson(self.count, self.started)


@dataclass
class Cell:
    label: str
    disorder: str
    started: int = 0
    with_baseline: int = 0
    with_data: int = 0
    cases: int = 0  # with data and at or above caseness at baseline
    cases_started: int = 0  # started and at or above caseness at baseline
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return self.started - self.with_data

    def rate(self, key: str) -> Rate:
        return Rate(self.counts.get(key, 0), self.with_data, self.started)

    @property
    def recovery(self) -> Rate:
        """Recovery among those who were cases at the start (IAPT's denominator): completers
        are the cases with data at this timepoint, intention to treat every case that started."""
        return Rate(self.counts.get("recovered", 0), self.cases, self.cases_started)


RATE_KEYS = (
    ("responded", "Response"),
    ("remitted", "Remission"),
    ("reliable_improvement", "Reliable improvement"),
    ("reliable_deterioration", "Reliable deterioration"),
)


@dataclass(frozen=True)
class TrajectoryPoint:
    infusion: int  # 0 is the baseline
    n: int
    q1: float | None
    median: float | None
    q3: float | None


@dataclass(frozen=True)
class SafetyRow:
    kind: str
    count: int
    per_100: float | None


@dataclass
class ClinicFigures:
    filters: Filters
    definitions: OutcomeDefinitions
    measure: MeasureDefinition
    timepoint_label: str
    cells: list[Cell]
    trajectory: list[TrajectoryPoint]
    km: list[KMStep]
    responders: int
    sessions_given: int
    safety: list[SafetyRow]
    comparisons: list[Comparison]
    published_label: str
    refreshed: OutcomeRefresh | None


def _outcomes(filters: Filters) -> QuerySet[CourseOutcome]:
    rows = CourseOutcome.objects.filter(measure=filters.measure)
    if filters.disorder:
        rows = rows.filter(disorder=filters.disorder)
    if filters.protocol:
        rows = rows.filter(protocol_code=filters.protocol)
    if filters.route:
        rows = rows.filter(route=filters.route)
    if filters.clinician is not None:
        rows = rows.filter(clinician_id=filters.clinician)
    zone = timezone.get_current_timezone()
    if filters.period_from is not None:
        start = datetime.combine(filters.period_from, time.min, tzinfo=zone)
        rows = rows.filter(first_infusion_at__gte=start)
    if filters.period_to is not None:
        end = datetime.combine(filters.period_to, time.max, tzinfo=zone)
        rows = rows.filter(first_infusion_at__lte=end)
    return rows


def _timepoint_rows(filters: Filters, outcomes: QuerySet[CourseOutcome]) -> QuerySet[Any]:
    number = filters.infusion_number
    rows = TimepointResult.objects.filter(outcome__in=outcomes, has_baseline=True)
    if number is not None:
        return rows.filter(timepoint="infusion", infusion_number=number)
    return rows.filter(timepoint=filters.timepoint, infusion_number=0)


def cells_for(filters: Filters, defs: OutcomeDefinitions, measure: MeasureDefinition) -> list[Cell]:
    """One cell per disorder and one for all: started, with baseline, with data, and the counts
    of each outcome. Three grouped aggregate queries, whatever the number of patients."""
    outcomes = _outcomes(filters)
    labels = {code: d.label for code, d in defs.disorders.items()}
    labels[""] = "No diagnosis recorded"
    cells: dict[str, Cell] = {}

    def cell(code: str) -> Cell:
        if code not in cells:
            cells[code] = Cell(labels.get(code, code), code)
        return cells[code]

    caseness = measure.caseness_at_least
    started = outcomes.values("disorder").annotate(
        n=Count("id"),
        b=Count("id", filter=Q(baseline__isnull=False)),
        cases=Count("id", filter=Q(baseline__gte=caseness if caseness is not None else 10**9)),
    )
    for row in started.order_by("disorder"):
        c = cell(row["disorder"])
        c.started, c.with_baseline, c.cases_started = row["n"], row["b"], row["cases"]
    aggregates: dict[str, Any] = {
        "n": Count("id"),
        "cases": Count("id", filter=Q(outcome__baseline__gte=caseness))
        if caseness is not None
        else Count("id", filter=Q(pk__in=[])),
        "recovered": Count("id", filter=Q(recovered=True)),
    }
    for key, _ in RATE_KEYS:
        aggregates[key] = Count("id", filter=Q(**{key: True}))
    grouped = _timepoint_rows(filters, outcomes).values("outcome__disorder").annotate(**aggregates)
    for row in grouped.order_by("outcome__disorder"):
        c = cell(row["outcome__disorder"])
        c.with_data = row["n"]
        c.cases = row["cases"]
        c.counts = {key: row[key] for key, _ in RATE_KEYS} | {"recovered": row["recovered"]}
    ordered = [cells[code] for code in [*defs.disorders, ""] if code in cells]
    total = Cell("All patients", "")
    for c in ordered:
        total.started += c.started
        total.with_baseline += c.with_baseline
        total.with_data += c.with_data
        total.cases += c.cases
        total.cases_started += c.cases_started
        for key, value in c.counts.items():
            total.counts[key] = total.counts.get(key, 0) + value
    return [total, *ordered] if len(ordered) != 1 else ordered


def _quartiles(
    rows: Iterator[tuple[int, int]],
) -> Iterator[TrajectoryPoint]:
    """Quartiles per group from rows ordered by (group, value), one group in memory at a time."""
    group: int | None = None
    values: list[float] = []
    for key, value in rows:
        if key != group and group is not None:
            yield _point(group, values)
            values = []
        group = key
        values.append(float(value))
    if group is not None:
        yield _point(group, values)


def _point(group: int, values: list[float]) -> TrajectoryPoint:
    return TrajectoryPoint(
        group,
        len(values),
        percentile_cont(values, 0.25),
        percentile_cont(values, 0.5),
        percentile_cont(values, 0.75),
    )


def trajectory_for(filters: Filters, max_infusion: int = 12) -> list[TrajectoryPoint]:
    """Median and quartiles of the score at baseline and after each infusion number, among
    courses with a baseline; streamed from the database in order."""
    outcomes = _outcomes(filters).filter(baseline__isnull=False)
    base = outcomes.order_by("baseline").values_list("baseline", flat=True)
    points = list(_quartiles((0, int(v or 0)) for v in base.iterator(chunk_size=5000)))
    rows = (
        TimepointResult.objects.filter(
            outcome__in=outcomes,
            timepoint="infusion",
            infusion_number__lte=max_infusion,
            has_baseline=True,
        )
        .order_by("infusion_number", "score")
        .values_list("infusion_number", "score")
    )
    points += list(_quartiles(iter(rows.iterator(chunk_size=5000))))
    return points


def durability_for(filters: Filters) -> tuple[list[KMStep], int]:
    """Kaplan-Meier of days from first response to loss of response, from grouped counts."""
    grouped = (
        _outcomes(filters)
        .filter(durability_days__isnull=False)
        .values("durability_days", "durability_event")
        .annotate(n=Count("id"))
        .order_by("durability_days")
    )
    observations: list[tuple[float, bool]] = []
    for row in grouped:
        observations += [(float(row["durability_days"] or 0), bool(row["durability_event"]))] * row[
            "n"
        ]
    return kaplan_meier(observations), len(observations)


def safety_for(filters: Filters) -> tuple[int, list[SafetyRow]]:
    """Alerts by kind and side effects charted, per 100 infusions given, in the filtered
    courses."""
    outcomes = _outcomes(filters).filter(course_id=OuterRef("course_id"))
    sessions = Session.objects.filter(status__in=GIVEN).filter(Exists(outcomes))
    given = sessions.count()
    rows: list[SafetyRow] = []
    alerts = (
        SessionAlert.objects.filter(session__in=sessions)
        .values("code")
        .annotate(n=Count("id"))
        .order_by("-n", "code")
    )
    for row in alerts:
        rows.append(SafetyRow(f"Alert: {row['code']}", row["n"], _per_100(row["n"], given)))
    side_effects = ChartEntry.objects.filter(
        session__in=sessions, kind=ChartEntryKind.SIDE_EFFECT
    ).count()
    rows.append(SafetyRow("Side effects charted", side_effects, _per_100(side_effects, given)))
    return given, rows


def _per_100(count: int, given: int) -> float | None:
    return None if given == 0 else round(100 * count / given, 1)


def clinic_outcomes(user: Any, filters: Filters) -> ClinicFigures:
    """The clinic outcomes page's figures. Audited (aggregate read, no patient named)."""
    require(user, "outcomes.view")
    defs = shipped_definitions()
    measure = defs.measure(filters.measure)
    cells = cells_for(filters, defs, measure)
    km, responders = durability_for(filters)
    given, safety = safety_for(filters)
    population = (
        defs.disorders[filters.disorder].label.lower()
        if filters.disorder
        else "anxiety disorders (all diagnoses)"
    )
    published = shipped_published()
    audit_record(
        actor=user,
        action=Action.READ,
        object_type="ClinicOutcomes",
        object_id=filters.measure,
        patient_id=None,
    )
    return ClinicFigures(
        filters=filters,
        definitions=defs,
        measure=measure,
        timepoint_label=timepoint_text(filters.timepoint),
        cells=cells,
        trajectory=trajectory_for(filters),
        km=km,
        responders=responders,
        sessions_given=given,
        safety=safety,
        comparisons=comparisons(
            published,
            measure=filters.measure,
            timepoint=filters.timepoint,
            clinic_population=f"this clinic's patients with {population}",
        ),
        published_label=published.label,
        refreshed=OutcomeRefresh.objects.filter(finished_at__isnull=False).first(),
    )
