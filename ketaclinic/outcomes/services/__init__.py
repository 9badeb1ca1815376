"""Writes of the outcomes app: recomputing the per-course outcome rows from the source rows.

The rows are derived data, kept current incrementally: every write to a row they are computed
from marks its patient dirty (database triggers, ``services.upkeep``), and ``outcomes_current``,
called before the clinic's figures are read, recomputes only those patients' courses, in one
transaction with the drain of the marks (or everything, under new definitions). A full refresh
replaces them all in one transaction (the first time, a definitions change, the nightly job).

On PostgreSQL the database computes them set-based (``services.set_based``: a few statements
over all courses, or the dirty patients' courses, no row through Python); elsewhere (SQLite)
the sources are read as ordered streams (``outcomes.sources``), judged by the pure rules one
patient at a time and written in batches.
Both keep memory flat whatever the clinic's size, and a test holds them to the same rows. The
per-session safety rows (``services.safety_rows``) are recomputed in the same run for the same
patients (every session, or the dirty patients' sessions). One
audit event records the run (it reads every treated patient's scores; the rows it writes never
leave the clinic page's aggregates).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.outcomes.models import (
    CourseOutcome,
    DirtyPatient,
    OutcomeRefresh,
    RefreshScope,
    Timepoint,
    TimepointResult,
)
from ketaclinic.outcomes.rules import Assessment, OutcomeDefinitions, course_outcome
from ketaclinic.outcomes.rules.definitions import CORE_MEASURES, shipped_definitions
from ketaclinic.outcomes.services.safety_rows import safety_rows_refresh
from ketaclinic.outcomes.services.set_based import refresh_set_based
from ketaclinic.outcomes.services.upkeep import install_triggers, triggers_installed
from ketaclinic.outcomes.sources import GIVEN, CourseInfo, PatientRows, patient_rows

BATCH = 2000
# A run that recomputed this many courses refreshes the tables' planner statistics.
ANALYZE_AFTER = 1000


def measures_for(rows: PatientRows, disorder: str | None, defs: OutcomeDefinitions) -> list[str]:
    wanted = list(CORE_MEASURES)
    if disorder is not None:
        wanted += list(defs.disorders[disorder].specific_measures)
    wanted += [m for m in rows.scores if m in defs.measures]
    return list(dict.fromkeys(wanted))


def _result(
    outcome: CourseOutcome, timepoint: str, number: int, assessment: Assessment | None, raw: int
) -> TimepointResult:
    return TimepointResult(
        outcome=outcome,
        timepoint=timepoint,
        infusion_number=number,
        score=raw if assessment is None else assessment.score,
        percent_fall=None if assessment is None else assessment.percent_fall,
        has_baseline=assessment is not None,
        responded=None if assessment is None else assessment.responded,
        remitted=None if assessment is None else assessment.remitted,
        reliable_improvement=None if assessment is None else assessment.reliable_improvement,
        reliable_deterioration=None if assessment is None else assessment.reliable_deterioration,
        recovered=None if assessment is None else assessment.recovered,
        reliable_recovery=None if assessment is None else assessment.reliable_recovery,
    )


def _course_rows(
    rows: PatientRows, course: CourseInfo, defs: OutcomeDefinitions, now: Any
) -> Iterator[tuple[CourseOutcome, list[TimepointResult]]]:
    disorder = defs.disorder_of(rows.diagnoses)
    for measure in measures_for(rows, disorder, defs):
        result = course_outcome(
            measure_code=measure,
            scores=rows.scores.get(measure, []),
            infusions=course.infusions,
            definitions=defs,
        )
        row = CourseOutcome(
            course_id=course.course_id,
            patient_id=rows.patient_id,
            measure=measure,
            disorder=disorder or "",
            protocol_code=course.protocol_code,
            route=course.route,
            clinician_id=course.clinician_id,
            first_infusion_at=min(course.infusions),
            infusions_given=len(course.infusions),
            baseline=result.baseline,
            baseline_at=result.baseline_at,
            status=result.status.value,
            response_infusion=result.response_infusion,
            response_days=result.response_days,
            durability_days=result.durability_days,
            durability_event=result.durability_event,
            definitions_label=result.definitions_label,
            computed_at=now,
        )
        points: list[TimepointResult] = []
        for number, (assessed, raw) in enumerate(
            zip(result.by_infusion, result.infusion_scores, strict=True), start=1
        ):
            if raw is not None:
                points.append(_result(row, Timepoint.INFUSION, number, assessed, raw))
        for code, assessed in result.follow_ups.items():
            if assessed is not None:
                points.append(_result(row, code, 0, assessed, assessed.score))
        if result.latest is not None:
            points.append(_result(row, Timepoint.LATEST, 0, result.latest, result.latest.score))
        yield row, points


def _flush(pending: list[tuple[CourseOutcome, list[TimepointResult]]]) -> int:
    outcomes = CourseOutcome.objects.bulk_create([row for row, _ in pending], batch_size=BATCH)
    points: list[TimepointResult] = []
    for saved, (_, results) in zip(outcomes, pending, strict=True):
        for point in results:
            point.outcome = saved
            points.append(point)
    TimepointResult.objects.bulk_create(points, batch_size=BATCH)
    return len(outcomes)


def outcome_rows(
    patients: Iterable[PatientRows], defs: OutcomeDefinitions, now: Any
) -> Iterator[tuple[CourseOutcome, list[TimepointResult]]]:
    for rows in patients:
        for course in rows.courses:
            yield from _course_rows(rows, course, defs, now)


def _refresh_streamed(
    defs: OutcomeDefinitions, now: Any, patient_ids: list[UUID] | None = None
) -> tuple[int, int]:
    """Every course's rows, or those of the given patients' courses."""
    if patient_ids is None:
        DirtyPatient.objects.all().delete()
        TimepointResult.objects.all().delete()
        CourseOutcome.objects.all().delete()
    else:
        TimepointResult.objects.filter(outcome__patient_id__in=patient_ids).delete()
        CourseOutcome.objects.filter(patient_id__in=patient_ids).delete()
    courses = 0
    last_course: UUID | None = None
    written = 0
    pending: list[tuple[CourseOutcome, list[TimepointResult]]] = []
    for row, points in outcome_rows(patient_rows(patient_ids), defs, now):
        if row.course_id != last_course:
            courses += 1
            last_course = row.course_id
        pending.append((row, points))
        if len(pending) >= BATCH:
            written += _flush(pending)
            pending = []
    if pending:
        written += _flush(pending)
    return courses, written


def _drain_streamed(defs: OutcomeDefinitions, now: Any) -> tuple[int, int]:
    """The dirty patients' courses, a batch of patients at a time (memory stays flat)."""
    courses = written = 0
    while ids := list(DirtyPatient.objects.values_list("patient_id", flat=True)[:BATCH]):
        DirtyPatient.objects.filter(patient_id__in=ids).delete()
        c, w = _refresh_streamed(defs, now, ids)
        safety_rows_refresh(ids)
        courses, written = courses + c, written + w
    return courses, written


def _lock() -> None:
    """One recompute at a time (a full rebuild and a drain must not interleave their deletes
    and inserts); SQLite serialises writers already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('ketaclinic.outcomes'))")


def _run(
    defs: OutcomeDefinitions, method: str, scope: RefreshScope, acting_user: Any
) -> OutcomeRefresh:
    now = timezone.now()
    run = OutcomeRefresh.objects.create(started_at=now, definitions_label=defs.label, scope=scope)
    if method == "auto":
        method = "set_based" if connection.vendor == "postgresql" else "streamed"
    changed_only = scope == RefreshScope.CHANGED
    if method == "set_based":
        given = tuple(str(status) for status in GIVEN)
        courses, written = refresh_set_based(
            defs, now=now, core=CORE_MEASURES, given=given, changed_only=changed_only
        )
        if changed_only:
            # the drained patients, left in ``oc_scope`` by the outcome rows' recompute
            safety_rows_refresh(RawSQL("SELECT patient_id FROM oc_scope", []))
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE oc_scope")
        else:
            safety_rows_refresh(None)
    elif changed_only:
        courses, written = _drain_streamed(defs, now)
    else:
        courses, written = _refresh_streamed(defs, now)
        safety_rows_refresh(None)
    if connection.vendor == "postgresql" and courses >= ANALYZE_AFTER:
        # Many rows replaced: the planner's statistics are refreshed with them, or the patient
        # page's read of one patient's rows may be planned as a scan of every timepoint.
        with connection.cursor() as cursor:
            cursor.execute(
                f"ANALYZE {CourseOutcome._meta.db_table}, {TimepointResult._meta.db_table}"
            )
    run.finished_at = timezone.now()
    run.courses = courses
    run.rows = written
    run.save(update_fields=["finished_at", "courses", "rows"])
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="OutcomeRefresh",
        object_id=run.pk,
        patient_id=None,
    )
    return run


@transaction.atomic
def outcomes_refresh(
    *, acting_user: Any, definitions: OutcomeDefinitions | None = None, method: str = "auto"
) -> OutcomeRefresh:
    """Recompute every course's outcome rows (replacing the previous ones). ``method``:
    ``auto`` (set-based on PostgreSQL, streamed elsewhere), ``set_based`` or ``streamed``."""
    _lock()
    defs = definitions or shipped_definitions()
    return _run(defs, method, RefreshScope.FULL, acting_user)


@transaction.atomic
def outcomes_current(
    *, acting_user: Any = None, definitions: OutcomeDefinitions | None = None, method: str = "auto"
) -> OutcomeRefresh | None:
    """Bring the outcome rows up to date before the clinic's figures are read; returns the run,
    or None when they were current already (one catalogue query and two indexed reads).

    - the change triggers are missing (a migration rebuilt a watched table): reinstalled, and
      every course recomputed (writes since may have gone unmarked);
    - no full rebuild yet, or the last one was under other definitions (a new threshold
      version): every course recomputed under ``definitions``;
    - patients marked dirty: their courses recomputed (all of them, whatever marked them), the
      marks drained in the same transaction; the rest of the rows are untouched.
    """
    _lock()
    defs = definitions or shipped_definitions()
    last_full = (
        OutcomeRefresh.objects.filter(scope=RefreshScope.FULL, finished_at__isnull=False)
        .order_by("-started_at", "-pk")
        .first()
    )
    if not triggers_installed(connection):
        install_triggers(connection)
        return _run(defs, method, RefreshScope.FULL, acting_user)
    if last_full is None or last_full.definitions_label != defs.label:
        return _run(defs, method, RefreshScope.FULL, acting_user)
    if not DirtyPatient.objects.exists():
        return None
    return _run(defs, method, RefreshScope.CHANGED, acting_user)
