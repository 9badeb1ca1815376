"""The prescriber's day: holds to review, second checks, safety flags, eligibility decisions
and session records waiting for a clinician, today's list with who is on site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Count, Exists, Model, OuterRef, QuerySet, Window

from ketaclinic.accounts.access import require
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
from ketaclinic.infusions.models import Session, SessionSignature, SessionStatus
from ketaclinic.lib.compiled_read import CompiledRead
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


M = TypeVar("M", bound=Model)


def _counting(rows: QuerySet[M]) -> QuerySet[Any, Any]:
    # A window count rides along on each row: the card's first rows and how many in all.
    return rows.annotate(in_all=Window(Count("pk")))[:LIST_LIMIT]


def _counted(read: CompiledRead) -> Counted[Any]:
    """The first LIST_LIMIT rows and how many there are in all, in one query (no rows, none
    in all)."""
    items = read.objects()
    return Counted(items, int(getattr(items[0], "in_all", 0)) if items else 0)


# The three cards' reads take no value: each compiled once per process (lib/compiled_read.py).
_FLAGS = CompiledRead(
    lambda: _counting(
        SafetyFlag.objects.filter(status=FlagStatus.ACTIVE)
        .select_related("patient")
        .order_by("-opened_at", "-pk")
    )
)
_DECISIONS = CompiledRead(
    lambda: _counting(
        Evaluation.objects.filter(
            ~Exists(EligibilityDecision.objects.filter(evaluation=OuterRef("pk")))
        )
        .select_related("patient")
        .order_by("created_at", "pk")
    )
)
_TO_SIGN = CompiledRead(
    lambda: _counting(
        Session.objects.filter(status=SessionStatus.DISCHARGED)
        .exclude(
            Exists(
                SessionSignature.objects.filter(session=OuterRef("pk"), role=Role.CLINICIAN.value)
            )
        )
        .select_related("course__patient", "chair")
        .order_by("start", "pk")
    )
)


def clinician_day_for_user(user: Any, *, now: datetime | None = None) -> ClinicianDay:
    """Six queries for the day's sessions (no chair tiles), one per card below, one audit
    write."""
    require(user, "session.view")
    require(user, "eligibility.decide")
    day = day_sessions(user, now=now, tiles=False)  # a list of the day, no chair tiles
    flags: Counted[SafetyFlag] = _counted(_FLAGS)
    decisions: Counted[Evaluation] = _counted(_DECISIONS)
    to_sign: Counted[Session] = _counted(_TO_SIGN)
    targets = [AuditTarget("SafetyFlag", str(f.pk), f.patient_id) for f in flags.items]
    targets += [AuditTarget("Evaluation", str(e.pk), e.patient_id) for e in decisions.items]
    targets += [AuditTarget("Session", str(s.pk), s.course.patient_id) for s in to_sign.items]
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)
    return ClinicianDay(day=day, flags=flags, decisions=decisions, to_sign=to_sign)
