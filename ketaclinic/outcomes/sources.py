"""Reading the source rows the outcomes are computed from, as ordered streams.

Administrations, sessions and diagnoses are read with ``.iterator()`` in patient order, so that
a recomputation over every patient holds one patient's rows at a time, never the whole clinic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet, UUIDField

from ketaclinic.courses.models import Course
from ketaclinic.eligibility.models import Evaluation
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.outcomes.rules import Score
from ketaclinic.scales.models import Administration

# A session counts as an infusion given once the infusion has started.
GIVEN = (
    SessionStatus.INFUSING,
    SessionStatus.RECOVERY,
    SessionStatus.DISCHARGED,
    SessionStatus.SIGNED,
)
CHUNK = 5000
FEW = 20
"""Up to this many patients are read without a server-side cursor."""


@dataclass
class CourseInfo:
    course_id: UUID
    protocol_code: str
    route: str
    clinician_id: int
    protocol_name: str = ""
    infusions: list[datetime] = field(default_factory=list)


@dataclass
class PatientRows:
    patient_id: UUID
    diagnoses: list[str]
    courses: list[CourseInfo]
    scores: dict[str, list[Score]]


def _stream(patient_ids: list[UUID] | None, rows: QuerySet[Any, Any]) -> Iterator[Any]:
    """The whole clinic's rows through a server-side cursor, in chunks; a few patients'
    (a patient's page) in one plain read: a cursor costs its DECLARE, FETCH and CLOSE round
    trips (and, outside a transaction, a copy held to the end), for a few hundred rows."""
    if patient_ids is not None and len(patient_ids) <= FEW:
        return iter(list(rows))
    return rows.iterator(chunk_size=CHUNK)


_SESSION_COLUMNS = (
    "course__patient_id",
    "course_id",
    "course__protocol__code",
    "course__protocol__route",
    "course__started_by_id",
    "start",
    "course__protocol__name",
)
_SCORE_COLUMNS = ("patient_id", "instrument", "administered_at", "total")
_DIAGNOSIS_COLUMNS = ("patient_id", "input_json")


def _one(columns: tuple[str, ...], read: CompiledRead, patient_id: UUID) -> Iterator[Any]:
    # The patient's id is not read back (it is the one asked for): a UUID less per row.
    rest = columns[1:]
    return iter([(patient_id, *(row[c] for c in rest)) for row in read.dicts(patient=patient_id)])


def _patient_slot() -> Slot:
    return Slot("patient", UUIDField())


# One patient's rows (the patient page), each read compiled once per process.
_ONE_SESSIONS = CompiledRead(
    lambda: (
        Session.objects.filter(status__in=GIVEN, course__patient_id=_patient_slot())
        .order_by("course_id", "start")
        .values(*_SESSION_COLUMNS[1:])
    )
)
_ONE_SCORES = CompiledRead(
    lambda: (
        Administration.objects.filter(total__isnull=False, patient_id=_patient_slot())
        .order_by("instrument", "administered_at")
        .values(*_SCORE_COLUMNS[1:])
    )
)
_ONE_DIAGNOSES = CompiledRead(
    lambda: (
        Evaluation.objects.filter(patient_id=_patient_slot())
        .order_by("-created_at", "-id")
        .values(*_DIAGNOSIS_COLUMNS[1:])
    )
)


def _sessions(patient_ids: list[UUID] | None) -> Iterator[tuple[Any, ...]]:
    if patient_ids is not None and len(patient_ids) == 1:
        return _one(_SESSION_COLUMNS, _ONE_SESSIONS, patient_ids[0])
    rows = Session.objects.filter(status__in=GIVEN)
    if patient_ids is not None:
        rows = rows.filter(course__patient_id__in=patient_ids)
    return _stream(
        patient_ids,
        rows.order_by("course__patient_id", "course_id", "start").values_list(*_SESSION_COLUMNS),
    )


def _scores(patient_ids: list[UUID] | None) -> Iterator[tuple[Any, ...]]:
    if patient_ids is not None and len(patient_ids) == 1:
        return _one(_SCORE_COLUMNS, _ONE_SCORES, patient_ids[0])
    rows = Administration.objects.filter(total__isnull=False)
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=patient_ids)
    return _stream(
        patient_ids,
        rows.order_by("patient_id", "instrument", "administered_at").values_list(*_SCORE_COLUMNS),
    )


def _diagnoses(patient_ids: list[UUID] | None) -> Iterator[tuple[Any, ...]]:
    if patient_ids is not None and len(patient_ids) == 1:
        return _one(_DIAGNOSIS_COLUMNS, _ONE_DIAGNOSES, patient_ids[0])
    rows = Evaluation.objects.all()
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=patient_ids)
    return _stream(
        patient_ids,
        rows.order_by("patient_id", "-created_at", "-id").values_list(*_DIAGNOSIS_COLUMNS),
    )


def _uuid(value: Any) -> UUID:
    # PostgreSQL's rows hold UUIDs already; parse only what is not one (~1 µs a row).
    return value if isinstance(value, UUID) else UUID(str(value))


class KeyedStream:
    """An ordered stream of rows keyed by their first column, read one key at a time."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next: tuple[Any, ...] | None = next(rows, None)

    def key(self) -> UUID | None:
        return None if self._next is None else _uuid(self._next[0])

    def take(self, key: UUID) -> list[tuple[Any, ...]]:
        taken: list[tuple[Any, ...]] = []
        while self._next is not None and _uuid(self._next[0]) == key:
            taken.append(self._next)
            self._next = next(self._rows, None)
        return taken


def patient_rows(patient_ids: list[UUID] | None = None) -> Iterator[PatientRows]:
    """Every treated patient's courses (with the infusions given), scores and latest
    diagnoses, one patient at a time, in patient-id order. Only patients with an infusion."""
    sessions = KeyedStream(_sessions(patient_ids))
    scores = KeyedStream(_scores(patient_ids))
    diagnoses = KeyedStream(_diagnoses(patient_ids))
    while (patient_id := sessions.key()) is not None:
        courses: dict[UUID, CourseInfo] = {}
        for _, course_id, code, route, clinician_id, start, name in sessions.take(patient_id):
            info = courses.get(course_id)
            if info is None:
                info = courses[course_id] = CourseInfo(
                    course_id, code, route, clinician_id, protocol_name=name
                )
            info.infusions.append(start)
        while (key := scores.key()) is not None and key < patient_id:
            scores.take(key)
        by_measure: dict[str, list[Score]] = {}
        for _, instrument, at, total in scores.take(patient_id):
            by_measure.setdefault(instrument, []).append(Score(at, int(total)))
        while (key := diagnoses.key()) is not None and key < patient_id:
            diagnoses.take(key)
        evaluations = diagnoses.take(patient_id)
        found = evaluations[0][1].get("diagnoses", []) if evaluations else []
        yield PatientRows(
            patient_id=patient_id,
            diagnoses=[str(d) for d in found],
            courses=list(courses.values()),
            scores=by_measure,
        )


def course_ids_of(patient_id: UUID) -> list[Course]:
    return list(
        Course.objects.filter(patient_id=patient_id)
        .select_related("protocol")
        .order_by("-started_at")
    )
