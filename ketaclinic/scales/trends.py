"""A patient's scores over time, for the trends page: one chart per instrument with its
severity bands, infusion sessions, and the response and remission thresholds.

Infusion markers are the moments infusions started (the chart's ``infusion_start`` entry);
the baseline is the last administration before the first infusion of the current course.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session, SessionStatus
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.scales import instruments
from ketaclinic.scales.forms import item_label, option_label
from ketaclinic.scales.instruments import Instrument, InstrumentUnknown
from ketaclinic.scales.models import Administration
from ketaclinic.scales.scoring import baseline_select, course_first_infusion
from ketaclinic.scales.selectors import administrations_list_for_user


@dataclass(frozen=True, slots=True)
class Infusion:
    """An infusion that started: its course and the moment it started."""

    course_id: UUID
    started_at: datetime


def infusions_for_many(patient_ids: Iterable[UUID]) -> dict[UUID, list[Infusion]]:
    """The started infusions of each patient, oldest first, in one query. A session counts
    once its infusion started (its chart has an ``infusion_start`` entry, which holds the
    moment); booked, checked-in and cancelled sessions without one do not."""
    ids = list(patient_ids)
    if not ids:
        return {}
    rows = (
        ChartEntry.objects.filter(
            kind=ChartEntryKind.INFUSION_START, session__course__patient_id__in=ids
        )
        .values_list("session__course__patient_id", "session__course_id", "at")
        .order_by("at", "pk")
    )
    found: dict[UUID, list[Infusion]] = {}
    for patient_id, course_id, at in rows:
        found.setdefault(patient_id, []).append(Infusion(course_id, at))
    return found


def infusion_times_for_many(patient_ids: Iterable[UUID]) -> dict[UUID, list[datetime]]:
    """The moments each patient's infusions started, oldest first, in one query."""
    return {
        patient_id: [infusion.started_at for infusion in infusions]
        for patient_id, infusions in infusions_for_many(patient_ids).items()
    }


def infusion_times_for(patient: Patient) -> list[datetime]:
    """The moments the patient's infusions started, oldest first (the chart's markers)."""
    return infusion_times_for_many([patient.pk]).get(patient.pk, [])


def session_times_for_many(patient_ids: Iterable[UUID]) -> dict[UUID, list[datetime]]:
    """The booked start of each patient's sessions that are not cancelled, past and coming,
    oldest first, in one query: the due list asks for questionnaires before each of them."""
    ids = list(patient_ids)
    if not ids:
        return {}
    rows = (
        Session.objects.filter(course__patient_id__in=ids)
        .exclude(status=SessionStatus.CANCELLED)
        .values_list("course__patient_id", "start")
        .order_by("start", "pk")
    )
    found: dict[UUID, list[datetime]] = {}
    for patient_id, start in rows:
        found.setdefault(patient_id, []).append(start)
    return found


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class InstrumentTrend:
    instrument: Instrument
    administrations: list[Administration]
    baseline: Administration | None
    response_threshold: Decimal | None
    chart: dict[str, Any]

    @property
    def code(self) -> str:
        return self.instrument.code


def response_threshold(instrument: Instrument, baseline_total: int | None) -> Decimal | None:
    """The total at which the drop from baseline reaches the response percent:
    baseline x (1 - percent / 100). None without a response rule or a baseline above 0."""
    if instrument.response is None or not baseline_total:
        return None
    return Decimal(baseline_total) * (1 - instrument.response.percent_drop / 100)


def instrument_trend(
    instrument: Instrument,
    administrations: Sequence[Administration],
    infusions: Sequence[datetime],
    *,
    first_infusion_at: datetime | None = None,
) -> InstrumentTrend:
    """The chart of one instrument. The baseline is the last score before
    ``first_infusion_at`` (the current course's first infusion), by default the first of
    ``infusions``."""
    scored = [a for a in administrations if a.total is not None]
    if first_infusion_at is None and infusions:
        first_infusion_at = min(infusions)
    baseline = baseline_select(scored, first_infusion_at)
    threshold = response_threshold(instrument, baseline.total if baseline else None)
    remission = instrument.remission
    chart: dict[str, Any] = {
        "code": instrument.code,
        "label": instrument.name,
        "min": instrument.scoring.min_total,
        "max": instrument.scoring.max_total,
        "points": [
            {"x": _ms(a.administered_at), "y": a.total, "id": str(a.pk), "band": a.band}
            for a in scored
        ],
        "bands": [{"low": b.low, "high": b.high, "label": b.label} for b in instrument.bands],
        "infusions": [_ms(moment) for moment in infusions],
        "response": (
            {
                "value": float(threshold),
                "label": f"Response: {instrument.response.percent_drop}% below baseline "
                f"{baseline.total if baseline else ''}",
            }
            if threshold is not None and instrument.response is not None
            else None
        ),
        "remission": (
            {
                "value": remission.threshold,
                "label": f"Remission {remission.comparator} {remission.threshold}",
            }
            if remission is not None
            else None
        ),
    }
    return InstrumentTrend(instrument, list(scored), baseline, threshold, chart)


def trends_for_user(user: Any, patient_id: UUID | str) -> tuple[Patient, list[InstrumentTrend]]:
    """The patient's trends, one per instrument with a total; every administration read is
    audited (one event each, or one for the record when there are none)."""
    patient = patient_get_for_user(user, patient_id, audit=False)
    administrations = administrations_list_for_user(user, patient.pk)
    started = infusions_for_many([patient.pk]).get(patient.pk, [])
    infusions = sorted(infusion.started_at for infusion in started)
    first_infusion_at = course_first_infusion((i.course_id, i.started_at) for i in started)
    by_code: dict[str, list[Administration]] = {}
    for administration in administrations:
        by_code.setdefault(administration.instrument, []).append(administration)
    result: list[InstrumentTrend] = []
    for code in instruments.BUILTIN_CODES:
        if code not in by_code:
            continue
        try:
            instrument = instruments.get(code)
        except InstrumentUnknown:
            continue
        if instrument.scoring.method != "sum":
            continue  # no total to draw (C-SSRS): its risk levels are listed elsewhere
        result.append(
            instrument_trend(
                instrument, by_code[code], infusions, first_infusion_at=first_infusion_at
            )
        )
    return patient, result


@dataclass(frozen=True)
class AnswerRow:
    label: str
    answer: str
    weight: int | None


def administration_get_for_user(
    user: Any, patient_id: UUID | str, administration_id: UUID
) -> tuple[Administration, list[AnswerRow]]:
    """One administration of a patient the user may see, with its answers as rows; an
    audited read. Administration.DoesNotExist for another patient's administration."""
    patient = patient_get_for_user(user, patient_id, audit=False)
    administration = Administration.objects.get(patient=patient, pk=administration_id)
    with transaction.atomic():
        audit_record(
            actor=user,
            action=Action.READ,
            object_type="Administration",
            object_id=administration.pk,
            patient_id=patient.pk,
        )
    rows: list[AnswerRow] = []
    try:
        instrument = instruments.get(administration.instrument)
    except InstrumentUnknown:
        return administration, [
            AnswerRow(f"Item {k}", str(v), v) for k, v in administration.answers.items()
        ]
    for item in instrument.items:
        if item.link_id not in administration.answers:
            rows.append(AnswerRow(item_label(instrument, item), "not asked", None))
            continue
        weight = administration.answers[item.link_id]
        shown = next((option_label(item, o) for o in item.options if o.weight == weight), "")
        rows.append(AnswerRow(item_label(instrument, item), shown or str(weight), weight))
    return administration, rows
