"""The per-session safety rows (``SessionSafetyRow``): each given infusion's dose, peak
blood-pressure rise over its pre-infusion baseline, peak dissociation scores, planned and
infused minutes and side effects, recomputed from the chart for every session or for the
sessions of the patients marked dirty (the same change triggers as the outcome rows:
``services.upkeep``), so that the clinic page's safety section is a few grouped aggregates.

Each session's values come from the database in one streamed query (its peak systolic and
diastolic during the infusion and recovery by ``MAX``, its baseline, dose and planned minutes,
the infusion's start and stop); pauses, side effects and dissociation scores are two more
streams in the same session order, judged by the pure rules (``outcomes.rules.safety``) and
written in batches: memory stays flat whatever the number of sessions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionStatus,
    VitalsReading,
    VitalsSource,
)
from ketaclinic.outcomes.models import SessionSafetyRow
from ketaclinic.outcomes.rules.safety import infused_minutes, peak_rise
from ketaclinic.outcomes.sources import CHUNK, FEW, GIVEN, KeyedStream

BATCH = 2000
# The dissociation scores the chart records (infusions.assessments), each its own column.
DISSOCIATION_COLUMNS = {"cadss": "cadss", "dissociation_0_4": "dissociation_0_4"}

# Which patients' sessions: all (None), a few ids, or a query naming them (the drain's scope).
Scope = list[UUID] | RawSQL | None


def _charted() -> Q:
    # A monitor's row counts once confirmed; a row marked an artefact never does.
    return Q(artefact=False) & (Q(source=VitalsSource.NURSE) | Q(confirmed_at__isnull=False))


def _baseline(field: str) -> Subquery:
    """The last charted pre-infusion value of ``field`` (the session's baseline)."""
    rows = VitalsReading.objects.filter(
        _charted(),
        session=OuterRef("pk"),
        phase=SessionStatus.CHECKED_IN,
        **{f"{field}__isnull": False},
    ).order_by("-at", "-pk")
    return Subquery(rows.values(field)[:1])


def _peak(field: str) -> Subquery:
    """The highest charted value of ``field`` during the infusion and recovery."""
    rows = (
        VitalsReading.objects.filter(
            _charted(),
            session=OuterRef("pk"),
            phase__in=[SessionStatus.INFUSING, SessionStatus.RECOVERY],
        )
        .values("session")
        .annotate(peak=Max(field))
        .values("peak")
    )
    return Subquery(rows[:1])


def _entry_at(kind: ChartEntryKind, newest: bool) -> Subquery:
    rows = ChartEntry.objects.filter(session=OuterRef("pk"), kind=kind)
    ordered = rows.order_by("-at", "-pk") if newest else rows.order_by("at", "pk")
    return Subquery(ordered.values("at")[:1])


def sessions_in(scope: Scope) -> QuerySet[Session]:
    sessions = Session.objects.filter(status__in=GIVEN)
    if scope is None:
        return sessions
    return sessions.filter(course__patient_id__in=scope)


def _read(scope: Scope, rows: QuerySet[Any, Any]) -> Iterator[Any]:
    """A few patients' rows in one plain read; more through a server-side cursor, in chunks."""
    if isinstance(scope, list) and len(scope) <= FEW:
        return iter(list(rows))
    return rows.iterator(chunk_size=CHUNK)


def _session_rows(scope: Scope) -> Iterator[tuple[Any, ...]]:
    dose = DoseCheck.objects.filter(session=OuterRef("pk")).order_by("-calculated_at", "-pk")
    rows = (
        sessions_in(scope)
        .annotate(
            per_kg=F("course__protocol__mg_per_kg"),
            amount=Subquery(dose.values("amount")[:1]),
            planned=Subquery(dose.values("infusion_minutes")[:1]),
            base_sys=_baseline("systolic_mmhg"),
            base_dia=_baseline("diastolic_mmhg"),
            peak_sys=_peak("systolic_mmhg"),
            peak_dia=_peak("diastolic_mmhg"),
            started=_entry_at(ChartEntryKind.INFUSION_START, newest=False),
            stopped=_entry_at(ChartEntryKind.INFUSION_STOP, newest=True),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "course_id",
            "course__patient_id",
            "per_kg",
            "amount",
            "planned",
            "base_sys",
            "base_dia",
            "peak_sys",
            "peak_dia",
            "started",
            "stopped",
        )
    )
    return _read(scope, rows)


def _entries(scope: Scope, kinds: list[ChartEntryKind]) -> KeyedStream:
    rows = (
        ChartEntry.objects.filter(session__in=sessions_in(scope).values("pk"), kind__in=kinds)
        .order_by("session_id", "at", "pk")
        .values_list("session_id", "kind", "at", "data_json")
    )
    return KeyedStream(_read(scope, rows))


def _pauses(entries: list[tuple[Any, ...]]) -> list[tuple[datetime, datetime | None]]:
    """The pauses as (paused, resumed): a resume closes the latest pause if it is still open."""
    pauses: list[tuple[datetime, datetime | None]] = []
    for _, kind, at, _ in entries:
        if kind == ChartEntryKind.PAUSE:
            pauses.append((at, None))
        elif kind == ChartEntryKind.RESUME and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], at)
    return pauses


def _peak_scores(entries: list[tuple[Any, ...]]) -> dict[str, int]:
    peaks: dict[str, int] = {}
    for *_, data in entries:
        found = json.loads(data)
        instrument, score = found.get("instrument"), found.get("score")
        if instrument in DISSOCIATION_COLUMNS and isinstance(score, int):
            peaks[instrument] = max(score, peaks.get(instrument, score))
    return peaks


def _take(stream: KeyedStream, key: UUID) -> list[tuple[Any, ...]]:
    while (ahead := stream.key()) is not None and ahead < key:
        stream.take(ahead)
    return stream.take(key)


def safety_rows(scope: Scope) -> Iterator[SessionSafetyRow]:
    """The safety row of every given session of the patients in ``scope``, in session order."""
    marks = _entries(
        scope, [ChartEntryKind.PAUSE, ChartEntryKind.RESUME, ChartEntryKind.SIDE_EFFECT]
    )
    scores = _entries(scope, [ChartEntryKind.ASSESSMENT])
    for row in _session_rows(scope):
        pk, course_id, patient_id, per_kg, amount, planned, bs, bd, ps, pd, started, stopped = row
        key = UUID(str(pk))
        charted = _take(marks, key)
        side_effects = sum(1 for entry in charted if entry[1] == ChartEntryKind.SIDE_EFFECT)
        infused = (
            None
            if started is None or stopped is None
            else infused_minutes(started, stopped, _pauses(charted))
        )
        peaks = _peak_scores(_take(scores, key))
        yield SessionSafetyRow(
            session_id=key,
            course_id=course_id,
            patient_id=patient_id,
            weight_based=per_kg is not None,
            mg_per_kg=None if per_kg is None or amount is None else Decimal(amount),
            systolic_rise=peak_rise(bs, [ps]),
            diastolic_rise=peak_rise(bd, [pd]),
            cadss=peaks.get("cadss"),
            dissociation_0_4=peaks.get("dissociation_0_4"),
            planned_minutes=planned,
            infused_minutes=infused,
            side_effects=side_effects,
        )


def safety_rows_refresh(scope: Scope) -> int:
    """Replace the safety rows of the patients in ``scope`` (every row when None); returns how
    many were written. The caller holds the transaction (and the recompute's lock)."""
    if connection.vendor == "postgresql":
        # The streams are server-side cursors, which PostgreSQL plans for their first 10 % of
        # rows (index walks in order, nested loops); they are read to the end, so plan them as
        # plain queries: the drain of 1,000 patients took 17 s at 20,000 patients without this.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
    existing = SessionSafetyRow.objects.all()
    if scope is not None:
        existing = existing.filter(patient_id__in=scope)
    existing.delete()
    written = 0
    pending: list[SessionSafetyRow] = []
    for row in safety_rows(scope):
        pending.append(row)
        if len(pending) >= BATCH:
            written += len(SessionSafetyRow.objects.bulk_create(pending))
            pending = []
    if pending:
        written += len(SessionSafetyRow.objects.bulk_create(pending))
    return written
