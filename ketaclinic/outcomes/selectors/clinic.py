"""The clinic's figures: database aggregates over the computed rows, never every response in
memory at once. Checks the role and records the read in the audit trail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.outcomes.models import (
    CourseOutcome,
    DirtyPatient,
    OutcomeRefresh,
    RefreshScope,
    TimepointResult,
)
from ketaclinic.outcomes.rules import Interval, kaplan_meier, wilson
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
from ketaclinic.outcomes.rules.safety import percentile_of_counts
from ketaclinic.outcomes.rules.stats import KMStep
from ketaclinic.outcomes.selectors.filters import Filters, outcomes_filtered
from ketaclinic.outcomes.selectors.safety import SafetyFigures, safety_for


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
    safety: SafetyFigures
    comparisons: list[Comparison]
    published_label: str
    refreshed: OutcomeRefresh | None
    # Whether some source rows changed after the figures were computed (patients still marked
    # dirty, or rows computed under other definitions): the page says so rather than showing
    # them as current. Callers run ``services.outcomes_current`` first, so this is rare.
    pending: bool = False

    @property
    def sessions_given(self) -> int:
        return self.safety.given


def _timepoint_rows(filters: Filters, outcomes: QuerySet[CourseOutcome]) -> QuerySet[Any]:
    number = filters.infusion_number
    rows = TimepointResult.objects.filter(outcome__in=outcomes, has_baseline=True)
    if number is not None:
        return rows.filter(timepoint="infusion", infusion_number=number)
    return rows.filter(timepoint=filters.timepoint, infusion_number=0)


def cells_for(filters: Filters, defs: OutcomeDefinitions, measure: MeasureDefinition) -> list[Cell]:
    """One cell per disorder and one for all: started, with baseline, with data, and the counts
    of each outcome. Three grouped aggregate queries, whatever the number of patients."""
    outcomes = outcomes_filtered(filters)
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


def _point(group: int, counts: Counter[int]) -> TrajectoryPoint:
    return TrajectoryPoint(
        group,
        sum(counts.values()),
        percentile_of_counts(counts, 0.25),
        percentile_of_counts(counts, 0.5),
        percentile_of_counts(counts, 0.75),
    )


def trajectory_for(filters: Filters, max_infusion: int = 12) -> list[TrajectoryPoint]:
    """Median and quartiles of the score at baseline and after each infusion number, among
    courses with a baseline: from the database's counts of each score (a histogram per
    infusion number, a few hundred rows whatever the number of patients), with the quartiles
    interpolated exactly as SQL's ``percentile_cont``. (Streaming every score in order through
    a server-side cursor let PostgreSQL pick a fast-start plan that took seconds.)"""
    outcomes = outcomes_filtered(filters).filter(baseline__isnull=False)
    base = outcomes.values("baseline").annotate(n=Count("id")).order_by()
    baselines: Counter[int] = Counter({int(r["baseline"] or 0): r["n"] for r in base})
    points = [_point(0, baselines)] if baselines else []
    rows = (
        TimepointResult.objects.filter(
            outcome__in=outcomes,
            timepoint="infusion",
            infusion_number__lte=max_infusion,
            has_baseline=True,
        )
        .values("infusion_number", "score")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_infusion: dict[int, Counter[int]] = {}
    for row in rows:
        by_infusion.setdefault(row["infusion_number"], Counter())[row["score"]] += row["n"]
    points += [_point(number, by_infusion[number]) for number in sorted(by_infusion)]
    return points


def durability_for(filters: Filters) -> tuple[list[KMStep], int]:
    """Kaplan-Meier of days from first response to loss of response, from grouped counts."""
    grouped = (
        outcomes_filtered(filters)
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


def clinic_outcomes(
    user: Any, filters: Filters, definitions: OutcomeDefinitions | None = None
) -> ClinicFigures:
    """The clinic outcomes page's figures. Audited (aggregate read, no patient named)."""
    require(user, "outcomes.view")
    defs = definitions or shipped_definitions()
    measure = defs.measure(filters.measure)
    cells = cells_for(filters, defs, measure)
    km, responders = durability_for(filters)
    safety = safety_for(filters)
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
        safety=safety,
        comparisons=comparisons(
            published,
            measure=filters.measure,
            timepoint=filters.timepoint,
            clinic_population=f"this clinic's patients with {population}",
        ),
        published_label=published.label,
        refreshed=OutcomeRefresh.objects.filter(finished_at__isnull=False).first(),
        pending=not rows_current(defs),
    )


def rows_current(defs: OutcomeDefinitions) -> bool:
    """No patient marked dirty, and the last full recompute used these definitions."""
    last_full = (
        OutcomeRefresh.objects.filter(scope=RefreshScope.FULL, finished_at__isnull=False)
        .order_by("-started_at", "-pk")
        .values_list("definitions_label", flat=True)
        .first()
    )
    return last_full == defs.label and not DirtyPatient.objects.exists()
