"""What every write to the chart shares: its refusals, the statuses that accept which writes,
the protocol cache, the locked session row, and the chart entry with its audit event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import Protocol
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session, SessionStatus
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.lib.hashchain import canonical_json

CHARTING = (SessionStatus.CHECKED_IN, SessionStatus.INFUSING, SessionStatus.RECOVERY)
"""Vitals, side effects and assessments are accepted from check-in until discharge."""

BEFORE_START = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)


class ChartRefused(Exception):
    """Well formed, but the chart's rules refuse it (HTTP 409), with every reason."""

    def __init__(self, reasons: Iterable[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


class SessionFrozen(ChartRefused):
    """The session is signed: the record is frozen; only addenda may be added."""

    def __init__(self) -> None:
        super().__init__(["The session is signed: its record is frozen; add an addendum."])


_definitions: dict[int, ProtocolDefinition] = {}


def session_protocol(session: Session) -> ProtocolDefinition:
    """The typed protocol of the session's course. Protocol rows never change (an edit is a new
    version), so each is read and parsed once per process."""
    return protocol_definition(session.course.protocol_id)


def protocol_definition(protocol_id: int) -> ProtocolDefinition:
    """The typed protocol of this id, read and parsed once per process (see `session_protocol`)."""
    found = _definitions.get(protocol_id)
    if found is None:
        found = Protocol.objects.get(pk=protocol_id).definition()
        _definitions[protocol_id] = found
    return found


def _locked(session: Session | UUID) -> Session:
    """The session row, locked for this transaction, with its course (for the patient and the
    protocol ids); the protocol itself comes from `session_protocol`'s cache."""
    pk = session if isinstance(session, UUID) else session.pk
    return Session.objects.select_for_update(of=("self",)).select_related("course").get(pk=pk)


def _require_status(session: Session, allowed: Iterable[str], what: str) -> None:
    _require_status_of(str(session.status), allowed, what)


def _require_status_of(status: str, allowed: Iterable[str], what: str) -> None:
    if status == SessionStatus.SIGNED:
        raise SessionFrozen
    allowed = tuple(allowed)
    if status not in allowed:
        wanted = " or ".join(str(SessionStatus(s).label).lower() for s in allowed)
        raise ChartRefused(
            [f"{what} needs the session to be {wanted}; it is {SessionStatus(status).label}."]
        )


def _aware(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError({name: ["Must include a UTC offset."]})
    return moment


def _audit(
    user: Any, action: Action, object_type: str, object_id: object, session: Session
) -> None:
    audit_record(
        actor=user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=session.course.patient_id,
    )


def _entry(
    session: Session,
    *,
    user: Any,
    kind: ChartEntryKind,
    at: datetime | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> ChartEntry:
    entry = ChartEntry.objects.create(
        session=session,
        kind=kind,
        at=at or timezone.now(),
        reason=reason.strip(),
        data_json=canonical_json(data or {}),
        recorded_by=user,
    )
    _audit(user, Action.CREATE, "ChartEntry", entry.pk, session)
    return entry


def _set_status(session: Session, status: SessionStatus) -> None:
    session.status = status
    session.save(update_fields=["status"])


def entry_data(entry: ChartEntry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(entry.data_json)
    return data


def _latest_entry(session: Session, kind: ChartEntryKind) -> ChartEntry | None:
    return ChartEntry.objects.filter(session=session, kind=kind).order_by("-at", "-pk").first()
