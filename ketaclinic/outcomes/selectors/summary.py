"""The patient's outcome summary, computed live from the source rows; checks the role and
records the read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ketaclinic.accounts.access import user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.outcomes.rules import CourseOutcome as RuleOutcome
from ketaclinic.outcomes.rules import course_outcome
from ketaclinic.outcomes.rules.definitions import (
    CORE_MEASURES,
    MeasureDefinition,
    shipped_definitions,
)
from ketaclinic.outcomes.sources import patient_rows
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to


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
        wanted = list(CORE_MEASURES)
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
