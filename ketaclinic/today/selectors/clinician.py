"""The prescriber's day: holds to review, second checks, safety flags, eligibility decisions
and session records waiting for a clinician, today's list with who is on site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Exists, OuterRef

from ketaclinic.accounts.access import require
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
from ketaclinic.infusions.models import Session, SessionSignature, SessionStatus
from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.today.selectors.sessions import Day, day_sessions

T = TypeVar("T")
LIST_LIMIT = 20
"""At most this many items per card (the card says how many there are in all)."""


@dataclass
class Counted(Generic[T]):
    items: list[T]
    total: int


@dataclass
class ClinicianDay:
    day: Day
    flags: Counted[SafetyFlag]
    decisions: Counted[Evaluation]
    to_sign: Counted[Session]


def clinician_day_for_user(user: Any, *, now: datetime | None = None) -> ClinicianDay:
    """Nine queries for the day's sessions, two per card below, one audit write."""
    require(user, "session.view")
    require(user, "eligibility.decide")
    day = day_sessions(user, now=now)
    flags_q = SafetyFlag.objects.filter(status=FlagStatus.ACTIVE)
    flags = list(flags_q.select_related("patient").order_by("-opened_at", "-pk")[:LIST_LIMIT])
    undecided = Evaluation.objects.filter(
        ~Exists(EligibilityDecision.objects.filter(evaluation=OuterRef("pk")))
    )
    evaluations = list(
        undecided.select_related("patient").order_by("created_at", "pk")[:LIST_LIMIT]
    )
    unsigned = Session.objects.filter(status=SessionStatus.DISCHARGED).exclude(
        Exists(SessionSignature.objects.filter(session=OuterRef("pk"), role=Role.CLINICIAN.value))
    )
    sessions = list(
        unsigned.select_related("course__patient", "chair").order_by("start", "pk")[:LIST_LIMIT]
    )
    targets = [AuditTarget("SafetyFlag", str(f.pk), f.patient_id) for f in flags]
    targets += [AuditTarget("Evaluation", str(e.pk), e.patient_id) for e in evaluations]
    targets += [AuditTarget("Session", str(s.pk), s.course.patient_id) for s in sessions]
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)
    return ClinicianDay(
        day=day,
        flags=Counted(flags, flags_q.count()),
        decisions=Counted(evaluations, undecided.count()),
        to_sign=Counted(sessions, unsigned.count()),
    )
