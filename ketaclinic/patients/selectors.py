"""Reads of patient records: access checked, related rows preloaded, every read audited."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from ketaclinic.accounts.access import user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag

LIST_LIMIT = 50


def patients_visible_to(user: Any) -> QuerySet[Patient]:
    """The patients a user may see: all for clinic staff, their own for a patient, else none."""
    if user_can(user, "patient.view_any"):
        return Patient.objects.all()
    if user_can(user, "patient.view_own") and getattr(user, "patient_id", None):
        return Patient.objects.filter(pk=user.patient_id)
    return Patient.objects.none()


def _parse_id(patient_id: UUID | str) -> UUID | None:
    if isinstance(patient_id, UUID):
        return patient_id
    try:
        return UUID(str(patient_id))
    except ValueError:
        return None


_PATIENT = CompiledRead(
    lambda: Patient.objects.filter(pk=Slot("patient", models.UUIDField())).order_by()
)


def patient_get_for_user(user: Any, patient_id: UUID | str, *, audit: bool = True) -> Patient:
    """The patient, if the user may see it; else Patient.DoesNotExist, as for a missing id."""
    pk = _parse_id(patient_id)
    if pk is None:
        raise Patient.DoesNotExist
    if user_can(user, "patient.view_any"):
        found = _PATIENT.objects(patient=pk)
        if not found:
            raise Patient.DoesNotExist
        patient: Patient = found[0]
    else:
        patient = patients_visible_to(user).get(pk=pk)
    if audit:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Patient", str(patient.pk), patient.pk)],
        )
    return patient


def _patients_matching(user: Any, query: str) -> QuerySet[Patient]:
    rows = patients_visible_to(user)
    # No name holds a NUL, and PostgreSQL refuses one in a query parameter (a 500): drop them.
    for word in query.replace("\x00", " ").split()[:5]:
        rows = rows.filter(
            Q(given_name__icontains=word) | Q(family_name__icontains=word) | Q(mrn__iexact=word)
        )
    return rows.order_by("family_name", "given_name", "mrn")


def _audit_listed(user: Any, patients: list[Patient]) -> None:
    if patients:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Patient", str(p.pk), p.pk) for p in patients],
        )


def patient_list_for_user(user: Any, query: str = "", *, limit: int = LIST_LIMIT) -> list[Patient]:
    """Search by name or MRN (every word must match); each patient listed is an audited read."""
    patients = list(_patients_matching(user, query)[:limit])
    _audit_listed(user, patients)
    return patients


def patient_page_for_user(
    user: Any, query: str = "", page: int | str = 1, *, per_page: int = LIST_LIMIT
) -> Page[Patient]:
    """One page of the patients matching ``query`` (as ``patient_list_for_user``): a bad or
    out-of-range page number gives the first or last page. Only the rows shown are audited
    reads; the count is one more query."""
    found = Paginator(_patients_matching(user, query), per_page).get_page(page)
    found.object_list = list(found.object_list)
    _audit_listed(user, found.object_list)
    return found


_OPEN_FLAGS = CompiledRead(
    lambda: SafetyFlag.objects.filter(
        patient_id=Slot("patient", models.UUIDField()), status=FlagStatus.ACTIVE
    ).order_by("-opened_at")  # as SafetyFlag.Meta.ordering
)


def patient_open_flags(patient: Patient) -> list[SafetyFlag]:
    """The patient's open flags, newest first (compiled once per process: every chart and
    patient banner reads them)."""
    flags: list[SafetyFlag] = _OPEN_FLAGS.objects(patient=patient.pk)
    return flags


_FLAGS = CompiledRead(
    lambda: (
        SafetyFlag.objects.filter(
            patient_id=Slot("patient", models.UUIDField()),
            status__in=[FlagStatus.ACTIVE, FlagStatus.ACKNOWLEDGED],
        )
        .select_related("acknowledged_by")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("status")],
                order_by=[F("acknowledged_at").desc(nulls_last=True), F("pk").desc()],
            )
        )
        .filter(Q(status=FlagStatus.ACTIVE) | Q(rank__lte=Slot("limit", models.IntegerField())))
        .order_by("-opened_at")
    )
)


def patient_flags(
    patient: Patient, *, acknowledged: bool, limit: int = 20
) -> tuple[list[SafetyFlag], list[SafetyFlag]]:
    """The patient's open flags (as `patient_open_flags`) and, when ``acknowledged``, the
    ``limit`` most recently acknowledged ones (as `patient_acknowledged_flags`), in one query:
    each acknowledged flag numbered by a window, only the first ``limit`` kept."""
    if not acknowledged:
        return patient_open_flags(patient), []
    rows = _FLAGS.objects(patient=patient.pk, limit=limit)
    open_flags: list[SafetyFlag] = []
    done: list[SafetyFlag] = []
    for flag in rows:
        (open_flags if flag.status == FlagStatus.ACTIVE else done).append(flag)
    done.sort(key=lambda f: (f.acknowledged_at is not None, f.acknowledged_at, f.pk), reverse=True)
    return open_flags, done


def patient_acknowledged_flags(patient: Patient, *, limit: int = 20) -> list[SafetyFlag]:
    """The patient's acknowledged flags, most recently acknowledged first (kept, never
    deleted), with who acknowledged them. Part of the record's audited read."""
    return list(
        SafetyFlag.objects.filter(patient=patient, status=FlagStatus.ACKNOWLEDGED)
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at", "-pk")[:limit]
    )


# -- the list's rows: flags, status and next session, in a fixed number of queries ------------


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    flags: list[SafetyFlag]
    """Open safety flags, urgent first."""
    status: str
    """inquiry, evaluated, eligible, in_course, maintenance or discharged."""
    status_label: str
    next_session: datetime | None

    @property
    def urgent(self) -> bool:
        return any(flag.severity == "urgent" for flag in self.flags)


_DONE = ("discharged", "signed")
_OPEN_COURSE = ("active", "paused")


def _induction_total(protocol: Any, cache: dict[int, int | None]) -> int | None:
    if protocol.pk not in cache:
        rule = protocol.definition().schedule.get("induction")
        limit = getattr(rule, "max_sessions", None)
        cache[protocol.pk] = limit.value if limit is not None else None
    return cache[protocol.pk]


def patient_rows(patients: list[Patient]) -> list[PatientRow]:
    """Each listed patient with open flags, status and next booked session: five queries
    whatever the number of patients or the length of their history (the caller has checked
    access and audited the read of the patients listed)."""
    from ketaclinic.courses.models import Course
    from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
    from ketaclinic.infusions.models import Session

    ids = [p.pk for p in patients]
    if not ids:
        return []
    flags: dict[Any, list[SafetyFlag]] = defaultdict(list)
    for flag in SafetyFlag.objects.filter(patient_id__in=ids, status=FlagStatus.ACTIVE).order_by(
        "-opened_at"
    ):
        flags[flag.patient_id].append(flag)
    # Counted per course through its (course, start) index: a join and GROUP BY over the
    # sessions read the clinic's whole history (~17 ms at 60,000 sessions).
    done = (
        Session.objects.filter(course=OuterRef("pk"), status__in=_DONE, phase="induction")
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    courses = {
        c.patient_id: c
        for c in Course.objects.filter(patient_id__in=ids)
        .select_related("protocol")
        .annotate(done=Coalesce(Subquery(done), 0))
        .order_by("started_at")
    }
    next_sessions = dict(
        Session.objects.filter(
            course__patient_id__in=ids, status="scheduled", start__gte=timezone.now()
        )
        .values_list("course__patient_id")
        .annotate(first=Min("start"))
        .values_list("course__patient_id", "first")
    )
    decisions: dict[Any, str] = {}
    for patient_id, decision in (
        EligibilityDecision.objects.filter(patient_id__in=ids)
        .order_by("pk")
        .values_list("patient_id", "decision")
    ):
        decisions[patient_id] = decision
    evaluated = set(
        Evaluation.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True)
    )
    totals: dict[int, int | None] = {}
    rows = []
    for patient in patients:
        course = courses.get(patient.pk)
        status, label = _status(course, decisions.get(patient.pk), patient.pk in evaluated, totals)
        patient_flags = sorted(flags[patient.pk], key=lambda f: f.severity != "urgent")
        rows.append(
            PatientRow(patient, patient_flags, status, label, next_sessions.get(patient.pk))
        )
    return rows


def _status(
    course: Any, decision: str | None, evaluated: bool, totals: dict[int, int | None]
) -> tuple[str, str]:
    if course is not None and course.status in _OPEN_COURSE:
        paused = " (paused)" if course.status == "paused" else ""
        if course.phase == "maintenance":
            return "maintenance", f"Maintenance{paused}"
        total = _induction_total(course.protocol, totals)
        of = f"/{total}" if total else ""
        return "in_course", f"In course {course.done}{of}{paused}"
    if course is not None:
        return "discharged", "Discharged"
    if decision == "eligible":
        return "eligible", "Eligible"
    if decision is not None or evaluated:
        return "evaluated", "Evaluated"
    return "inquiry", "Inquiry"


# -- the record's summary: what the care team needs first ---------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    instrument: str
    total: int
    at: datetime
    previous: int | None

    @property
    def trend(self) -> str:
        """up, down or same against the previous total; '' for the first."""
        if self.previous is None:
            return ""
        if self.total > self.previous:
            return "up"
        return "down" if self.total < self.previous else "same"


@dataclass(frozen=True)
class PatientSummary:
    allergies: list[str] | None
    """From the latest eligibility evaluation; None when no evaluation recorded them."""
    weight_kg: Any | None
    weight_at: datetime | None
    course: Any | None
    done: int
    total: int | None
    next_session: datetime | None
    scores: list[ScoreLine]


SCORES_READ = 60


def _last_dose(patient: Any) -> QuerySet[Any]:
    from ketaclinic.infusions.models import DoseCheck

    return DoseCheck.objects.filter(
        session__course__patient=patient, weight_kg__isnull=False
    ).order_by("-pk")


def _summary_facts() -> QuerySet[Any, Any]:
    from ketaclinic.eligibility.models import Evaluation
    from ketaclinic.infusions.models import Session

    return (
        Patient.objects.filter(pk=Slot("patient", models.UUIDField()))
        .annotate(
            evaluation_input=Subquery(
                Evaluation.objects.filter(patient=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("input_json")[:1],
                output_field=models.JSONField(),
            ),
            weight_kg=Subquery(_last_dose(OuterRef("pk")).values("weight_kg")[:1]),
            weight_at=Subquery(_last_dose(OuterRef("pk")).values("session__start")[:1]),
            next_start=Subquery(
                Session.objects.filter(
                    course__patient=OuterRef("pk"),
                    status="scheduled",
                    start__gte=Slot("now", models.DateTimeField()),
                )
                .order_by("start")
                .values("start")[:1]
            ),
        )
        .order_by()
        .values("evaluation_input", "weight_kg", "weight_at", "next_start")
    )


def _open_course_done() -> QuerySet[Any]:
    from ketaclinic.courses.models import Course

    return (
        Course.objects.filter(
            patient_id=Slot("patient", models.UUIDField()), status__in=_OPEN_COURSE
        )
        .annotate(
            done=Count(
                "sessions",
                filter=Q(sessions__status__in=_DONE, sessions__phase=models.F("phase")),
            )
        )
        .order_by("-started_at")[:1]  # as .first() on Course's ordering
    )


def _latest_scores() -> QuerySet[Any, Any]:
    from ketaclinic.scales.models import Administration

    return (
        Administration.objects.filter(
            patient_id=Slot("patient", models.UUIDField()), total__isnull=False
        )
        .order_by("-administered_at")
        .values("instrument", "total", "administered_at")[:SCORES_READ]
    )


# The summary's three reads, compiled once per process (lib/compiled_read.py).
_SUMMARY_FACTS = CompiledRead(_summary_facts)
_OPEN_COURSE_DONE = CompiledRead(_open_course_done)
_LATEST_SCORES = CompiledRead(_latest_scores)


def patient_summary(patient: Patient) -> PatientSummary:
    """Allergies, the last charted weight, the open course's progress and next session, and the
    latest total of each rating scale with its previous one: three queries whatever the length
    of the history (the caller has read the patient, audited)."""
    from ketaclinic.infusions.protocols import Phase as ProtocolPhase
    from ketaclinic.infusions.services.common import protocol_definition

    # The latest evaluation's answers (allergies), the last charted weight and the next
    # session, each a subquery on its index, in one query.
    facts = _SUMMARY_FACTS.dicts(patient=patient.pk, now=timezone.now())[0]
    allergies: list[str] | None = None
    evaluation_input = facts["evaluation_input"]
    if isinstance(evaluation_input, dict):
        raw = evaluation_input.get("allergies")
        if isinstance(raw, list):
            allergies = [str(a) for a in raw if str(a).strip()]
    found = _OPEN_COURSE_DONE.objects(patient=patient.pk)
    course = found[0] if found else None
    total = None
    if course is not None:
        # Protocol rows never change: each is read and parsed once per process.
        rule = protocol_definition(course.protocol_id).schedule.get(ProtocolPhase(course.phase))
        limit = getattr(rule, "max_sessions", None)
        total = limit.value if limit is not None else None
    latest: dict[str, list[tuple[int, datetime]]] = {}
    for row in _LATEST_SCORES.dicts(patient=patient.pk):
        instrument, score, at = row["instrument"], row["total"], row["administered_at"]
        kept = latest.setdefault(instrument, [])
        if score is not None and len(kept) < 2:
            kept.append((score, at))
    scores = [
        ScoreLine(code, kept[0][0], kept[0][1], kept[1][0] if len(kept) > 1 else None)
        for code, kept in sorted(latest.items())
    ]
    return PatientSummary(
        allergies=allergies,
        weight_kg=facts["weight_kg"],
        weight_at=facts["weight_at"],
        course=course,
        done=int(getattr(course, "done", 0) or 0),
        total=total,
        next_session=facts["next_start"],
        scores=scores,
    )
