"""Reads of care plans and integration notes: access checked here, every read audited.

Who reads a plan: staff holding ``careplan.view`` who see every patient (clinicians, nurses,
the administrator); a therapist only the plans that name them (``CarePlan.therapists``); a
patient only their own signed plan (the portal). Anyone else gets Http404, as for an id that
does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import QuerySet, UUIDField
from django.http import Http404
from django.utils import timezone

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.services import audit_reads
from ketaclinic.careplan.models import (
    CarePlan,
    CarePlanVersion,
    IntegrationNote,
    LifestyleCheckIn,
    NoteStatus,
    VersionStatus,
)
from ketaclinic.careplan.rules.content import goal_measure
from ketaclinic.careplan.rules.goals import (
    COMPARATOR_WORDS,
    ScaleMeasure,
    Standing,
    scale_standing,
    target_standing,
)
from ketaclinic.careplan.rules.versions import review_due
from ketaclinic.courses.models import Course
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.patients.models import Patient
from ketaclinic.scales import instruments
from ketaclinic.scales.models import Administration

NOTES_BEFORE_INFUSION = 2


def _uuid(raw: UUID | str) -> UUID:
    try:
        return raw if isinstance(raw, UUID) else UUID(str(raw))
    except ValueError:
        raise Http404 from None


def may_view_plan(user: Any, patient: Patient) -> bool:
    """One condition a line: coverage proves each."""
    if not user_can(user, "careplan.view"):
        return False
    if user_can(user, "patient.view_any"):
        return True
    return CarePlan.objects.filter(patient=patient, therapists=user).exists()


def patient_for_plan(user: Any, patient_id: UUID | str) -> Patient:
    """The patient whose plan the user may read (staff or assigned therapist), else 404."""
    patient = Patient.objects.filter(pk=_uuid(patient_id)).first()
    if patient is None or not may_view_plan(user, patient):
        raise Http404
    return patient


def plan_of(patient: Patient) -> CarePlan | None:
    return CarePlan.objects.filter(patient=patient).first()


def versions_for_user(user: Any, patient: Patient) -> list[CarePlanVersion]:
    """Every version, newest first, with who signed; audited as reads."""
    rows = list(
        CarePlanVersion.objects.filter(plan__patient=patient)
        .select_related("plan", "signed_by", "created_by")
        .order_by("-number")
    )
    audit_reads(user, "CarePlanVersion", rows)
    return rows


def version_for_user(user: Any, patient: Patient, number: int) -> CarePlanVersion:
    version = (
        CarePlanVersion.objects.filter(plan__patient=patient, number=number)
        .select_related("plan", "signed_by", "created_by")
        .first()
    )
    if version is None:
        raise Http404
    audit_reads(user, "CarePlanVersion", [version])
    return version


# Compiled once per process (lib/compiled_read.py): the staff record page reads it each view.
_LATEST_SIGNED = CompiledRead(
    lambda: (
        CarePlanVersion.objects.filter(
            plan__patient_id=Slot("patient", UUIDField()), status=VersionStatus.SIGNED
        )
        .select_related("plan", "signed_by")
        .order_by("-number")[:1]
    )
)


def latest_signed(patient: Patient) -> CarePlanVersion | None:
    found: list[CarePlanVersion] = _LATEST_SIGNED.objects(patient=patient.pk)
    return found[0] if found else None


def own_signed_plan(user: Any) -> tuple[Patient, CarePlanVersion | None]:
    """The portal: the signed-in patient's own latest signed version (drafts never show)."""
    patient = Patient.objects.get(pk=user.patient_id)
    version = latest_signed(patient)
    if version is not None:
        audit_reads(user, "CarePlanVersion", [version])
    return patient, version


@dataclass(frozen=True)
class GoalRow:
    text: str
    kind: str
    measure: str  # the measure in words, e.g. "GAD-7 under 10"
    standing: Standing
    latest: int | None
    latest_at: date | None
    target_date: date | None
    instrument: str = ""  # a scale goal's instrument name, comparator code and threshold
    comparator: str = ""
    threshold: int | None = None


def _latest_totals(patient: Patient, codes: set[str]) -> dict[str, Administration]:
    latest: dict[str, Administration] = {}
    rows = Administration.objects.filter(
        patient=patient, instrument__in=codes, total__isnull=False
    ).order_by("instrument", "-administered_at")
    for row in rows:
        latest.setdefault(row.instrument, row)
    return latest


def instrument_name(code: str) -> str:
    try:
        return instruments.get(code).name
    except instruments.InstrumentUnknown:  # removed since the plan was signed
        return code.upper()


def goal_rows(user: Any, patient: Patient, content: dict[str, Any]) -> list[GoalRow]:
    """Each goal with where it stands: a scale goal against the latest total (an audited
    read of that score), a plain target against its date."""
    goals = content.get("goals", [])
    measures = [goal_measure(goal) for goal in goals]
    codes = {m.instrument for m in measures if isinstance(m, ScaleMeasure)}
    latest = _latest_totals(patient, codes) if codes else {}
    audit_reads(user, "Administration", list(latest.values()))
    today = timezone.localdate()
    rows: list[GoalRow] = []
    for goal, measure in zip(goals, measures, strict=True):
        if isinstance(measure, ScaleMeasure):
            score = latest.get(measure.instrument)
            total = score.total if score is not None else None
            rows.append(
                GoalRow(
                    text=goal["text"],
                    kind="scale",
                    measure=f"{instrument_name(measure.instrument)} "
                    f"{COMPARATOR_WORDS[measure.comparator]} {measure.threshold}",
                    standing=scale_standing(measure, total),
                    latest=total,
                    latest_at=timezone.localdate(score.administered_at) if score else None,
                    target_date=None,
                    instrument=instrument_name(measure.instrument),
                    comparator=measure.comparator.value,
                    threshold=measure.threshold,
                )
            )
        else:
            rows.append(
                GoalRow(
                    text=goal["text"],
                    kind="target",
                    measure=measure.target,
                    standing=target_standing(measure, today),
                    latest=None,
                    latest_at=None,
                    target_date=measure.target_date,
                )
            )
    return rows


def course_of(content: dict[str, Any]) -> Course | None:
    raw = content.get("course_id") or ""
    if not raw:
        return None
    return Course.objects.filter(pk=raw).select_related("protocol").first()


def therapist_names(ids: list[int | None]) -> dict[int, str]:
    keys = [i for i in ids if i]
    return {u.pk: _name(u) for u in User.objects.filter(pk__in=keys)}


def _name(user: User) -> str:
    full = user.get_full_name()
    return full or user.get_username()


def checkins_for_user(user: Any, plan: CarePlan, limit: int = 20) -> list[LifestyleCheckIn]:
    rows = list(plan.checkins.select_related("recorded_by").order_by("-recorded_at")[:limit])
    audit_reads(user, "LifestyleCheckIn", rows)
    return rows


def review_is_due(patient: Patient) -> bool:
    """For the staff patient page: the signed plan's review date has passed."""
    version = latest_signed(patient)
    return version is not None and review_due(version.review_on, timezone.localdate())


# Integration notes ------------------------------------------------------------------------


def therapist_patients(user: Any) -> QuerySet[CarePlan]:
    """The plans that name this therapist (their landing page)."""
    if user_role_is_therapist(user):
        return CarePlan.objects.filter(therapists=user).select_related("patient")
    return CarePlan.objects.none()


def user_role_is_therapist(user: Any) -> bool:
    return getattr(user, "role", None) == Role.THERAPIST.value


def notes_for_user(user: Any, patient: Patient) -> list[IntegrationNote]:
    """A therapist sees their own notes; a clinician every signed note (drafts are the
    therapist's until signed). Audited."""
    if not user_can(user, "integration.view"):
        return []
    rows = IntegrationNote.objects.filter(patient=patient).select_related("therapist")
    if user_role_is_therapist(user):
        rows = rows.filter(therapist=user)
    else:
        rows = rows.filter(status=NoteStatus.SIGNED)
    notes = list(rows.prefetch_related("addenda__author"))
    audit_reads(user, "IntegrationNote", notes)
    return notes


def note_for_therapist(user: Any, note_id: int) -> IntegrationNote:
    note = (
        IntegrationNote.objects.filter(pk=note_id, therapist=user, plan__therapists=user)
        .select_related("plan", "patient")
        .first()
    )
    if note is None or not user_can(user, "integration.write"):
        raise Http404
    audit_reads(user, "IntegrationNote", [note])
    return note


def notes_before_infusion(user: Any, patient: Patient) -> list[IntegrationNote]:
    """The latest signed integration notes, for the prescriber at the session's pre-checks."""
    if not user_can(user, "integration.view") or user_role_is_therapist(user):
        return []
    notes = list(
        IntegrationNote.objects.filter(patient=patient, status=NoteStatus.SIGNED)
        .select_related("therapist")
        .prefetch_related("addenda")
        .order_by("-signed_at")[:NOTES_BEFORE_INFUSION]
    )
    audit_reads(user, "IntegrationNote", notes)
    return notes


def scores_for_user(user: Any, patient: Patient, limit: int = 30) -> list[Administration]:
    """The patient's scale totals (a therapist reads scores of their patients here)."""
    rows = list(
        Administration.objects.filter(patient=patient, total__isnull=False).order_by(
            "-administered_at"
        )[:limit]
    )
    audit_reads(user, "Administration", rows)
    return rows


@dataclass(frozen=True)
class TherapistRow:
    patient: Patient
    last_infusion: date | None
    last_note: date | None
    drafts: int

    @property
    def note_due(self) -> bool:
        """An infusion since the last note (or none yet): an integration note to write."""
        if self.last_infusion is None:
            return False
        return self.last_note is None or self.last_note < self.last_infusion


def therapist_rows(user: Any) -> list[TherapistRow]:
    """The therapist's landing page: each assigned patient, their last infusion, the last
    note and drafts to finish. Audited as reads of the patients listed."""
    from ketaclinic.infusions.models import Session, SessionStatus

    plans = list(therapist_patients(user).order_by("patient__family_name", "patient__given_name"))
    patients = [p.patient for p in plans]
    given = (SessionStatus.RECOVERY, SessionStatus.DISCHARGED, SessionStatus.SIGNED)
    rows: list[TherapistRow] = []
    for patient in patients:
        last = (
            Session.objects.filter(course__patient=patient, status__in=given)
            .order_by("-start")
            .values_list("start", flat=True)
            .first()
        )
        notes = IntegrationNote.objects.filter(patient=patient, therapist=user)
        last_note = (
            notes.filter(status=NoteStatus.SIGNED)
            .order_by("-session_on")
            .values_list("session_on", flat=True)
            .first()
        )
        rows.append(
            TherapistRow(
                patient=patient,
                last_infusion=timezone.localdate(last) if last else None,
                last_note=last_note,
                drafts=notes.filter(status=NoteStatus.DRAFT).count(),
            )
        )
    audit_reads(user, "Patient", [_PatientRead(p.pk) for p in patients])
    return rows


@dataclass(frozen=True)
class _PatientRead:
    pk: UUID

    @property
    def patient_id(self) -> UUID:
        return self.pk
