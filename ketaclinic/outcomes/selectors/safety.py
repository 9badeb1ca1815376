"""The clinic page's safety figures for the filtered courses, per 100 infusions given: alerts by
kind, side effects charted, infusions stopped before their planned minutes, and the peak
blood-pressure rise and peak dissociation by mg/kg dose band.

Each session's figures come from the database in one streamed query (its peak systolic and
diastolic during the infusion and recovery by ``MAX``, its pre-infusion baseline, its dose and
planned minutes, the infusion's start and stop); pauses and dissociation scores are two more
streams in the same session order. The pure rules (``outcomes.rules.safety``) judge each session
and tally the dose bands in bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery

from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionAlert,
    SessionStatus,
    VitalsReading,
    VitalsSource,
)
from ketaclinic.outcomes.rules.safety import (
    DoseBandRow,
    SafetyDefinitions,
    SessionSafety,
    by_dose_band,
    peak_rise,
    per_100,
    shipped_safety,
    stopped_early,
)
from ketaclinic.outcomes.selectors.filters import Filters, outcomes_filtered
from ketaclinic.outcomes.sources import CHUNK, GIVEN, KeyedStream

# The dissociation scores the chart records (infusions.assessments), in the table's order;
# MOAA/S is sedation, not dissociation, and is not shown here.
DISSOCIATION = (("cadss", "CADSS (0-92)"), ("dissociation_0_4", "dissociation rating (0-4)"))


@dataclass(frozen=True)
class SafetyRow:
    kind: str
    count: int
    denominator: int
    denominator_text: str  # what the denominator counts
    per_100: float | None


@dataclass(frozen=True)
class SafetyFigures:
    given: int
    rows: list[SafetyRow]
    by_dose: list[DoseBandRow]
    dissociation: tuple[tuple[str, str], ...]
    definitions: SafetyDefinitions


def sessions_given(filters: Filters) -> QuerySet[Session]:
    outcomes = outcomes_filtered(filters).filter(course_id=OuterRef("course_id"))
    return Session.objects.filter(status__in=GIVEN).filter(Exists(outcomes))


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


def _session_rows(sessions: QuerySet[Session]) -> Iterator[tuple[Any, ...]]:
    dose = DoseCheck.objects.filter(session=OuterRef("pk")).order_by("-calculated_at", "-pk")
    return (
        sessions.annotate(
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
        .iterator(chunk_size=CHUNK)
    )


def _entries(sessions: QuerySet[Session], kinds: list[ChartEntryKind]) -> KeyedStream:
    rows = (
        ChartEntry.objects.filter(session__in=sessions, kind__in=kinds)
        .order_by("session_id", "at", "pk")
        .values_list("session_id", "kind", "at", "data_json")
        .iterator(chunk_size=CHUNK)
    )
    return KeyedStream(rows)


def _pauses(entries: list[tuple[Any, ...]]) -> list[tuple[datetime, datetime | None]]:
    pauses: list[tuple[datetime, datetime | None]] = []
    for _, kind, at, _ in entries:
        if kind == ChartEntryKind.PAUSE:
            pauses.append((at, None))
        elif pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], at)
    return pauses


def _peak_scores(entries: list[tuple[Any, ...]]) -> dict[str, int]:
    peaks: dict[str, int] = {}
    wanted = {code for code, _ in DISSOCIATION}
    for *_, data in entries:
        found = json.loads(data)
        instrument, score = found.get("instrument"), found.get("score")
        if instrument in wanted and isinstance(score, int):
            peaks[instrument] = max(score, peaks.get(instrument, score))
    return peaks


def _take(stream: KeyedStream, key: UUID) -> list[tuple[Any, ...]]:
    while (ahead := stream.key()) is not None and ahead < key:
        stream.take(ahead)
    return stream.take(key)


def safety_for(filters: Filters, definitions: SafetyDefinitions | None = None) -> SafetyFigures:
    defs = definitions or shipped_safety()
    sessions = sessions_given(filters)
    given = sessions.count()
    rows: list[SafetyRow] = []
    alerts = (
        SessionAlert.objects.filter(session__in=sessions)
        .values("code")
        .annotate(n=Count("id"))
        .order_by("-n", "code")
    )
    for row in alerts:
        n = row["n"]
        rows.append(
            SafetyRow(f"Alert: {row['code']}", n, given, "infusions given", per_100(n, given))
        )
    side_effects = ChartEntry.objects.filter(
        session__in=sessions, kind=ChartEntryKind.SIDE_EFFECT
    ).count()
    rows.append(
        SafetyRow(
            "Side effects charted",
            side_effects,
            given,
            "infusions given",
            per_100(side_effects, given),
        )
    )

    pauses = _entries(sessions, [ChartEntryKind.PAUSE, ChartEntryKind.RESUME])
    scores = _entries(sessions, [ChartEntryKind.ASSESSMENT])
    told = early = 0

    def judged() -> Iterator[SessionSafety]:
        nonlocal told, early
        for pk, per_kg, amount, planned, bs, bd, ps, pd, started, stopped in _session_rows(
            sessions
        ):
            key = UUID(str(pk))
            result = stopped_early(
                planned_minutes=planned,
                start=started,
                stop=stopped,
                pauses=_pauses(_take(pauses, key)),
                margin_minutes=defs.early_stop_margin_minutes,
            )
            if result is not None:
                told += 1
                early += result
            yield SessionSafety(
                mg_per_kg=None if per_kg is None or amount is None else Decimal(amount),
                weight_based=per_kg is not None,
                systolic_rise=peak_rise(bs, [ps]),
                diastolic_rise=peak_rise(bd, [pd]),
                dissociation=_peak_scores(_take(scores, key)),
            )

    by_dose = by_dose_band(judged(), defs, [code for code, _ in DISSOCIATION])
    rows.append(
        SafetyRow(
            "Stopped before the planned minutes",
            early,
            told,
            "infusions with planned minutes and a charted stop",
            per_100(early, told),
        )
    )
    return SafetyFigures(given, rows, by_dose, DISSOCIATION, defs)
