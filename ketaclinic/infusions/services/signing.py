"""Signing (which freezes the record), addenda, and checking a signed record."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require, user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.infusions.models import (
    Addendum,
    Session,
    SessionAlert,
    SessionSignature,
    SessionStatus,
    SignedRecord,
)
from ketaclinic.infusions.services.common import (
    ChartRefused,
    _audit,
    _locked,
    _require_status,
    _set_status,
)
from ketaclinic.infusions.services.monitor_feed import monitor_awaiting_problems
from ketaclinic.infusions.services.record_document import record_document_store_or_defer
from ketaclinic.infusions.snapshot import session_snapshot
from ketaclinic.lib.hashchain import canonical_json, digest


def _ledger_problems(session: Session) -> list[str]:
    try:
        from ketaclinic.ledger.selectors import session_ledger_problems
    except ImportError:
        # The ledger is optional until its app ships the selector: no ledger, no problems.
        return []
    return session_ledger_problems(session)


def open_alert_problems(session: Session) -> list[str]:
    """One reason per alert nobody has acknowledged yet, oldest first (empty: none open)."""
    open_alerts = SessionAlert.objects.filter(session=session, acknowledged_at__isnull=True)
    return [
        f"Alert not acknowledged (value {alert.value} at "
        f"{timezone.localtime(alert.raised_at):%H:%M}): {alert.message} Acknowledge it, with "
        "a note of what was done, before signing."
        for alert in open_alerts.order_by("raised_at", "pk")
    ]


@transaction.atomic
def session_sign(*, acting_user: Any, session: Session) -> Session:
    """The nurse and the clinician each sign; with both, the record is frozen (canonical
    snapshot plus SHA-256) and the session is signed. Refused while an alert is open or the
    ketamine ledger does not match the chart."""
    require(acting_user, "session.sign")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.DISCHARGED], "Signing")
    role = user_role(acting_user)
    assert role in (Role.NURSE, Role.CLINICIAN)  # session.sign is held by these two only
    problems = (
        open_alert_problems(locked) + monitor_awaiting_problems(locked) + _ledger_problems(locked)
    )
    if problems:
        raise ChartRefused(problems)
    if SessionSignature.objects.filter(session=locked, role=role).exists():
        raise ChartRefused([f"The session already has a {role.label.lower()}'s signature."])
    signature = SessionSignature.objects.create(session=locked, role=role, signed_by=acting_user)
    _audit(acting_user, Action.CREATE, "SessionSignature", signature.pk, locked)
    roles = set(SessionSignature.objects.filter(session=locked).values_list("role", flat=True))
    if roles >= {Role.NURSE.value, Role.CLINICIAN.value}:
        snapshot = session_snapshot(locked)
        record = SignedRecord.objects.create(
            session=locked, snapshot_json=canonical_json(snapshot), sha256=digest(snapshot)
        )
        _set_status(locked, SessionStatus.SIGNED)
        _audit(acting_user, Action.UPDATE, "SignedRecord", record.pk, locked)
        # The PDF as signed, stored once: what the staff download and FHIR serve.
        record_document_store_or_defer(acting_user=acting_user, session=locked)
    return locked


@transaction.atomic
def addendum_add(*, acting_user: Any, session: Session, text: str) -> Addendum:
    """A later note beside the signed record; the record itself stays as signed."""
    require(acting_user, "session.chart")
    if not text.strip():
        raise ValidationError({"text": ["An addendum needs text."]})
    locked = _locked(session)
    record = SignedRecord.objects.filter(session=locked).first()
    if locked.status != SessionStatus.SIGNED or record is None:
        raise ChartRefused(["Addenda are for signed sessions; chart the change directly."])
    addendum = Addendum.objects.create(
        session=locked, text=text.strip(), record_sha256=record.sha256, author=acting_user
    )
    _audit(acting_user, Action.CREATE, "Addendum", addendum.pk, locked)
    # A new version of the stored PDF: the record as signed with every addendum so far.
    record_document_store_or_defer(acting_user=acting_user, session=locked, addendum=addendum)
    return addendum


def signed_record_verify(session: Session) -> bool:
    """Whether the stored snapshot still matches its digest and today's rows."""
    record = SignedRecord.objects.filter(session=session).first()
    if record is None:
        return False
    stored = json.loads(record.snapshot_json)
    return digest(stored) == record.sha256 == digest(session_snapshot(session))
