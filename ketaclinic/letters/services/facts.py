"""What a letter says about the record, read when it is drafted: the signed eligibility
decision, the course's scores with response and remission (the outcomes app's rules and
definitions), the sessions given, the side effects charted and how the course ended. The
values are plain (JSON-ready), so the draft keeps what it was prefilled from."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.utils import timezone

from ketaclinic.courses.models import Course, CourseStatus
from ketaclinic.eligibility.services import decision_latest
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session, SessionStatus
from ketaclinic.letters.rules.content import (
    NOT_RECORDED,
    ScoreRow,
    adverse_events_text,
    iso,
    outcome_summary,
    reasons_text,
)
from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.selectors.summary import patient_outcome_summary
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_summary


def _local_day(moment: Any) -> str:
    return iso(timezone.localtime(moment)) if moment is not None else ""


def score_note() -> str:
    """How response and remission are defined, from the outcomes definitions (with sources)."""
    defs = shipped_definitions()
    parts = [
        f"{m.name}: response = a fall of at least {m.response_fall_percent}% from baseline, "
        f"remission = a score {m.remission_text}"
        for code, m in defs.measures.items()
        if code in ("gad7", "phq9")
    ]
    return "; ".join(parts) + f" (outcome definitions {defs.label})."


def _course_scores(user: Any, patient: Patient) -> tuple[list[ScoreRow], Any]:
    courses = patient_outcome_summary(user, patient, audit=False)
    if not courses:
        return [], None
    course = courses[0]  # newest first
    rows = []
    for measure in course.measures:
        outcome = measure.outcome
        latest = outcome.latest
        rows.append(
            ScoreRow(
                measure=measure.definition.name,
                baseline=outcome.baseline,
                baseline_on=_local_day(outcome.baseline_at),
                latest=latest.score if latest else None,
                latest_on=_local_day(latest.at) if latest else "",
                responded=latest.responded if latest else None,
                remitted=latest.remitted if latest else None,
            )
        )
    return rows, course


def _latest_scores(patient: Patient) -> list[ScoreRow]:
    """The latest total of each scale (the evaluation's letter: before any infusion)."""
    return [
        ScoreRow(
            measure=line.instrument.upper().replace("GAD7", "GAD-7").replace("PHQ9", "PHQ-9"),
            baseline=line.total,
            baseline_on=_local_day(line.at),
            latest=None,
            latest_on="",
            responded=None,
            remitted=None,
        )
        for line in patient_summary(patient).scores
    ]


def _side_effects(patient: Patient, course_id: Any) -> list[tuple[str, str]]:
    entries = ChartEntry.objects.filter(
        session__course__patient=patient, kind=ChartEntryKind.SIDE_EFFECT
    )
    if course_id is not None:
        entries = entries.filter(session__course_id=course_id)
    events = []
    for entry in entries.order_by("at"):
        data = json.loads(entry.data_json or "{}")
        events.append((str(data.get("effect", "other")), str(data.get("severity", "?"))))
    return events


def _common(patient: Patient, recipient_name: str) -> dict[str, str]:
    return {
        "patient_name": patient.display_name,
        "birth_date": iso(patient.birth_date),
        "clinic_name": settings.KETACLINIC_CLINIC_NAME,
        "recipient_name": recipient_name,
        "today": iso(timezone.localdate()),
    }


def letter_facts(user: Any, *, patient: Patient, kind: str, recipient_name: str) -> dict[str, Any]:
    """``values`` (the placeholders) and ``scores`` (the table's rows) for a new draft."""
    values = _common(patient, recipient_name)
    scores: list[ScoreRow] = []
    if kind == "evaluation":
        decision = decision_latest(patient)
        if decision is None:
            values |= {
                "decision": NOT_RECORDED,
                "decision_date": "",
                "reasons": f"- {NOT_RECORDED}",
            }
        else:
            proposal = (decision.snapshot or {}).get("proposal") or {}
            reasons = [str(r.get("text", "")) for r in proposal.get("reasons", [])]
            values |= {
                "decision": decision.get_decision_display(),
                "decision_date": _local_day(decision.decided_at),
                "reasons": reasons_text(reasons, decision.rationale),
            }
        scores = _latest_scores(patient)
    else:
        scores, summary = _course_scores(user, patient)
        course_id = summary.course_id if summary is not None else None
        course = (
            Course.objects.filter(pk=course_id).select_related("protocol").first()
            if course_id is not None
            else Course.objects.filter(patient=patient).order_by("-started_at").first()
        )
        sessions = summary.infusions if summary is not None else 0
        values |= {
            "sessions_given": str(sessions),
            "first_session": _local_day(summary.first_infusion_at) if summary else "",
            "last_session": _last_session_day(course),
            "protocol": course.protocol.name if course is not None else NOT_RECORDED,
            "outcome_summary": outcome_summary(scores),
            "adverse_events": adverse_events_text(_side_effects(patient, course_id)),
        }
        if kind == "discharge":
            ended = course is not None and course.status == CourseStatus.ENDED
            values |= {
                "course_ended_on": _local_day(course.ended_at) if ended and course else "",
                "end_reason": (course.status_reason if ended and course else "") or NOT_RECORDED,
            }
    return {"values": values, "scores": [asdict(row) for row in scores], "note": score_note()}


def _last_session_day(course: Course | None) -> str:
    if course is None:
        return ""
    last = (
        Session.objects.filter(
            course=course, status__in=[SessionStatus.DISCHARGED, SessionStatus.SIGNED]
        )
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )
    return _local_day(last)
