"""Check-in and the pre-checks before the start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require, user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.infusions import dosing
from ketaclinic.infusions.chart_models import ChartEntry, ChartEntryKind, SessionAlert
from ketaclinic.infusions.chart_services.common import (
    ChartRefused,
    _audit,
    _aware,
    _entry,
    _locked,
    _require_status,
    _set_status,
)
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition

CHECK_IN_EARLIEST = timedelta(hours=2)
"""Check-in opens this long before the booked start (a clinician may check in at any time)."""

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")


@transaction.atomic
def session_check_in(*, acting_user: Any, session: Session) -> Session:
    """From 2 hours before the booked start; a clinician may check in at any time."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.SCHEDULED], "Check-in")
    now = timezone.now()
    if now < locked.start - CHECK_IN_EARLIEST and user_role(acting_user) != Role.CLINICIAN:
        opens = timezone.localtime(locked.start - CHECK_IN_EARLIEST)
        raise ChartRefused(
            [f"Check-in opens 2 hours before the booked start, at {opens:%Y-%m-%d %H:%M}."]
        )
    _entry(locked, user=acting_user, kind=ChartEntryKind.CHECK_IN, at=now)
    _set_status(locked, SessionStatus.CHECKED_IN)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    return locked


@dataclass(frozen=True)
class PreChecks:
    identity_confirmed: bool
    consent_current: bool
    fasting: bool
    escort_confirmed: bool
    pregnancy_test: str
    """negative, positive or not_applicable."""
    questionnaires_done: bool
    weight_kg: Decimal
    weight_measured_at: datetime


def prechecks_problems(
    checks: dict[str, Any] | None, *, protocol: ProtocolDefinition, at: datetime
) -> list[str]:
    """What stands between the recorded pre-checks and the start (empty: all done)."""
    if checks is None:
        return ["The pre-checks have not been recorded."]
    problems: list[str] = []
    labels = {
        "identity_confirmed": "identity not confirmed",
        "consent_current": "consent not current",
        "fasting": "fasting not confirmed",
        "escort_confirmed": "escort not confirmed",
        "questionnaires_done": "pre-dose questionnaires not done",
    }
    for key, label in labels.items():
        if checks.get(key) is not True:
            problems.append(f"Pre-check: {label}.")
    pregnancy = checks.get("pregnancy_test")
    if pregnancy == "positive":
        problems.append("Pre-check: pregnancy test positive.")
    elif pregnancy not in ("negative", "not_applicable"):
        problems.append("Pre-check: pregnancy test not recorded.")
    measured = datetime.fromisoformat(str(checks.get("weight_measured_at")))
    if measured > at or not dosing.weight_is_current(
        measured_at=measured, at=at, protocol=protocol
    ):
        problems.append(
            f"Pre-check: weight must be measured within {protocol.weight_valid_days.value} days."
        )
    return problems


@transaction.atomic
def prechecks_record(*, acting_user: Any, session: Session, checks: PreChecks) -> ChartEntry:
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.CHECKED_IN], "Pre-checks")
    if checks.pregnancy_test not in PREGNANCY_RESULTS:
        raise ValidationError({"pregnancy_test": ["Must be negative, positive or not_applicable."]})
    _aware("weight_measured_at", checks.weight_measured_at)
    if checks.weight_measured_at > timezone.now():
        raise ValidationError({"weight_measured_at": ["Must not be in the future."]})
    data = {
        "identity_confirmed": checks.identity_confirmed,
        "consent_current": checks.consent_current,
        "fasting": checks.fasting,
        "escort_confirmed": checks.escort_confirmed,
        "pregnancy_test": checks.pregnancy_test,
        "questionnaires_done": checks.questionnaires_done,
        "weight_kg": checks.weight_kg,
        "weight_measured_at": checks.weight_measured_at.isoformat(),
    }
    return _entry(locked, user=acting_user, kind=ChartEntryKind.PRECHECKS, data=data)


@transaction.atomic
def clinician_review_record(*, acting_user: Any, session: Session, reason: str) -> ChartEntry:
    """A clinician has reviewed a pre-dose hold (e.g. BP at or above 140/90) and allows start;
    the hold's open alerts are acknowledged with the review as their note."""
    require(acting_user, "session.override")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.CHECKED_IN], "A pre-dose review")
    if not reason.strip():
        raise ValidationError({"reason": ["A review needs a reason."]})
    # The review answers the pre-dose alerts raised so far: they are acknowledged with it.
    held = SessionAlert.objects.filter(
        session=locked, acknowledged_at__isnull=True, vitals__phase=SessionStatus.CHECKED_IN
    )
    for alert in held:
        alert.acknowledged_by = acting_user
        alert.acknowledged_at = timezone.now()
        alert.acknowledgement_note = f"Clinician review before the start: {reason.strip()}"
        alert.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
        _audit(acting_user, Action.UPDATE, "SessionAlert", alert.pk, locked)
    return _entry(locked, user=acting_user, kind=ChartEntryKind.CLINICIAN_REVIEW, reason=reason)
