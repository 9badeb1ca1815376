"""Discharge, behind its gates."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.models import Action
from ketaclinic.infusions.models import ChartEntryKind, Session, SessionStatus
from ketaclinic.infusions.rules import monitoring
from ketaclinic.infusions.services.common import (
    ChartRefused,
    _audit,
    _entry,
    _latest_entry,
    _locked,
    _require_status,
    _set_status,
    session_protocol,
)


@transaction.atomic
def session_discharge(
    *,
    acting_user: Any,
    session: Session,
    aldrete: int,
    escort_present: bool,
    instructions_given: bool,
    override_reason: str = "",
) -> Session:
    """Refused before the minimum observation time, with a modified Aldrete below the gate or
    without an escort, unless a clinician overrides with a reason."""
    require(acting_user, "session.chart")
    reason = override_reason.strip()
    if reason and not user_can(acting_user, "session.override"):
        raise PermissionDenied("only a clinician may override the discharge gates")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.RECOVERY], "Discharge")
    protocol = session_protocol(locked)
    stop = _latest_entry(locked, ChartEntryKind.INFUSION_STOP)
    assert stop is not None  # recovery begins when the infusion stops
    now = timezone.now()
    minutes = max(0, int((now - stop.at).total_seconds() // 60))
    try:
        decision = monitoring.discharge_check(
            minutes_since_infusion_end=minutes,
            aldrete_total=aldrete,
            escort_present=escort_present,
            protocol=protocol,
            override_reason=reason or None,
        )
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise ValidationError({field: [message or str(exc)]}) from None
    if not instructions_given:
        raise ChartRefused(["Discharge instructions have not been given."])
    if not decision.allowed:
        raise ChartRefused([r.message for r in decision.reasons])
    _entry(
        locked,
        user=acting_user,
        kind=ChartEntryKind.DISCHARGE,
        at=now,
        reason=decision.override_reason or "",
        data={
            "aldrete": aldrete,
            "escort_present": escort_present,
            "instructions_given": instructions_given,
            "minutes_observed": minutes,
            "overridden": decision.overridden,
            "unmet": [r.code for r in decision.reasons],
        },
    )
    _set_status(locked, SessionStatus.DISCHARGED)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    return locked
