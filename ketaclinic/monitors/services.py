"""Writes of the monitor feed: taking messages (routing readings to the session in the
monitor's chair, else the unassigned queue), assigning and dismissing queued messages,
registering monitors. Every message is kept raw with its parse result and the ACK sent.

`messages_receive` takes a batch in one transaction (the listener groups what arrived
together, so that commits, and the audit chain's lock, are shared); each message has its
own savepoint, so one that fails does not take the others with it. An ACK AA is returned only
for what this transaction stores; the caller sends it after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import Chair
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session
from ketaclinic.infusions.services import (
    CHARTING,
    MonitorCharted,
    MonitorSet,
    vitals_record_from_monitor,
)
from ketaclinic.monitors.feed.ack import build_ack
from ketaclinic.monitors.feed.parse import (
    Header,
    MessageRefused,
    ParsedMessage,
    decode,
    header_fallback,
    parse_message,
)
from ketaclinic.monitors.feed.vitals import VitalsSet, vitals_sets
from ketaclinic.monitors.models import MessageStatus, MonitorDevice, MonitorMessage

RAW_MAX = 200_000
"""Characters of a message kept (a refused oversize frame is refused by the framing)."""
CHECK_IN_SLACK = timedelta(minutes=10)
"""A reading up to this long before the check-in is still this patient's (the monitor's
clock and the check-in time are typed by different hands)."""


@dataclass(frozen=True)
class Received:
    """What became of one message: the ACK to send and what was stored."""

    ack: bytes
    ack_code: str
    status: str
    message_id: int | None
    readings: int = 0
    alerts: int = 0


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _ack(header: Header, code: str, text: str = "", error_code: str = "") -> bytes:
    ours = f"K{timezone.now():%Y%m%d%H%M%S%f}"
    return build_ack(header, code=code, text=text, error_code=error_code, control_id=ours)


def device_for(parsed: ParsedMessage) -> MonitorDevice | None:
    """The registered, active monitor that sent the message (OBX-18 ids first, then MSH-3),
    when its sending facility matches where one is registered."""
    if not parsed.device_ids:
        return None
    found = {
        d.device_id: d
        for d in MonitorDevice.objects.filter(
            device_id__in=parsed.device_ids, active=True
        ).select_related("chair")
    }
    for candidate in parsed.device_ids:
        device = found.get(candidate)
        if device is None:
            continue
        facility = device.sending_facility
        if facility and facility != parsed.header.sending_facility:
            continue
        return device
    return None


def session_in_chair(chair_id: int, at: datetime) -> tuple[Session | None, str]:
    """The session checked in, infusing or in recovery in the chair at `at`, or why none."""
    sessions = list(
        Session.objects.filter(chair_id=chair_id, status__in=CHARTING).order_by("start")[:3]
    )
    if not sessions:
        return None, "no session is checked in, infusing or in recovery in the chair"
    if len(sessions) > 1:
        return None, "more than one session is open in the chair: a nurse must choose"
    session = sessions[0]
    check_in = (
        ChartEntry.objects.filter(session=session, kind=ChartEntryKind.CHECK_IN)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    if check_in is not None and at < check_in - CHECK_IN_SLACK:
        return None, "the reading was taken before the session in the chair checked in"
    return session, ""


def _key(device_id: str, key: str) -> str:
    full = f"mon:{device_id}:{key}"
    if len(full) <= 100:
        return full
    return "mon:" + hashlib.sha256(full.encode()).hexdigest()[:60]


def monitor_sets(parsed: ParsedMessage, device_id: str) -> list[MonitorSet]:
    return [
        MonitorSet(at=s.at, values=s.values, key=_key(device_id, s.key))
        for s in vitals_sets(parsed)
    ]


def _store(
    *,
    raw_text: str,
    header: Header,
    status: str,
    ack_code: str,
    parsed: ParsedMessage | None = None,
    device: MonitorDevice | None = None,
    reason: str = "",
    session_id: Any = None,
    readings: int = 0,
    extra: dict[str, Any] | None = None,
) -> MonitorMessage:
    result: dict[str, Any] = parsed.as_json() if parsed else {}
    if extra:
        result.update(extra)
    return MonitorMessage.objects.create(
        raw=raw_text[:RAW_MAX],
        control_id=header.control_id[:100],
        message_type=f"{header.message_type}^{header.trigger}"[:16],
        sending_ids=" ".join(parsed.device_ids if parsed else ())[:300],
        device=device,
        observed_at=datetime.fromisoformat(parsed.observed_at) if parsed else None,
        status=status,
        reason=reason[:2000],
        parse_json=result,
        ack_code=ack_code,
        session_id=session_id,
        readings=readings,
    )


def _receive_one(raw: bytes) -> Received:
    raw_text, _ = decode(raw)
    try:
        parsed = parse_message(raw, default_tz=_zone())
    except MessageRefused as refused:
        header = header_fallback(raw_text)
        row = _store(
            raw_text=raw_text,
            header=header,
            status=MessageStatus.REFUSED,
            ack_code=refused.ack_code,
            reason=refused.reason,
        )
        ack = _ack(header, refused.ack_code, refused.reason, refused.error_code)
        return Received(ack, refused.ack_code, MessageStatus.REFUSED, row.pk)
    header = parsed.header
    if parsed.skipped:
        row = _store(
            raw_text=raw_text,
            header=header,
            status=MessageStatus.SKIPPED,
            ack_code="AA",
            parsed=parsed,
            reason=parsed.skipped,
        )
        return Received(_ack(header, "AA"), "AA", MessageStatus.SKIPPED, row.pk)
    device = device_for(parsed)
    sets = vitals_sets(parsed)
    reason = ""
    session: Session | None = None
    if device is None:
        reason = "the monitor is not registered (or not active)"
    elif device.chair_id is None:
        reason = f"{device.name} is not assigned to a chair"
    elif sets:
        session, reason = session_in_chair(
            device.chair_id, datetime.fromisoformat(parsed.observed_at)
        )
    if not sets:
        row = _store(
            raw_text=raw_text,
            header=header,
            status=MessageStatus.NOTHING,
            ack_code="AA",
            parsed=parsed,
            device=device,
            reason="no chartable value in the message",
        )
        return Received(_ack(header, "AA"), "AA", MessageStatus.NOTHING, row.pk)
    charted: MonitorCharted | None = None
    if session is not None and device is not None:
        try:
            charted = vitals_record_from_monitor(
                session_id=session.pk,
                device=device.label,
                sets=monitor_sets(parsed, device.device_id),
            )
        except ValidationError as error:
            reason = "; ".join(error.messages)
            session = None
    if session is None or charted is None:
        row = _store(
            raw_text=raw_text,
            header=header,
            status=MessageStatus.UNASSIGNED,
            ack_code="AA",
            parsed=parsed,
            device=device,
            reason=reason,
        )
        return Received(_ack(header, "AA"), "AA", MessageStatus.UNASSIGNED, row.pk)
    row = _store(
        raw_text=raw_text,
        header=header,
        status=MessageStatus.CHARTED,
        ack_code="AA",
        parsed=parsed,
        device=device,
        session_id=session.pk,
        readings=len(charted.readings),
        extra={"duplicates": charted.duplicates, "dropped": charted.dropped},
    )
    return Received(
        _ack(header, "AA"),
        "AA",
        MessageStatus.CHARTED,
        row.pk,
        readings=len(charted.readings),
        alerts=len(charted.alerts),
    )


def messages_receive(raws: Sequence[bytes]) -> list[Received]:
    """Take a batch of framed payloads in one transaction; one result per payload, in order.
    A database error raises (nothing of the batch is stored): the caller answers AE."""
    results: list[Received] = []
    with transaction.atomic():
        for raw in raws:
            try:
                with transaction.atomic():  # a savepoint: a failure here spares the batch
                    results.append(_receive_one(raw))
            except (ValidationError, IntegrityError, ValueError, KeyError, TypeError) as error:
                header = header_fallback(decode(raw)[0])
                text = f"application error: {type(error).__name__}"
                results.append(Received(_ack(header, "AE", text, "207"), "AE", "error", None))
    return results


def message_receive(raw: bytes) -> Received:
    return messages_receive([raw])[0]


# --- the nurse's queue ------------------------------------------------------------------


@transaction.atomic
def message_assign(*, acting_user: Any, message: MonitorMessage, session: Session) -> int:
    """Chart a queued message's readings into the session the nurse chose (checked in,
    infusing or in recovery). Returns how many readings were charted."""
    require(acting_user, "session.chart")
    row = MonitorMessage.objects.select_for_update().get(pk=message.pk)
    if row.status != MessageStatus.UNASSIGNED:
        raise ValidationError({"message": ["This message is no longer waiting."]})
    parsed = parse_message(row.raw.encode("utf-8"), default_tz=_zone())
    device_id = row.device.device_id if row.device else (parsed.device_ids or ("unknown",))[0]
    label = row.device.label if row.device else f"unregistered [{device_id}]"
    charted = vitals_record_from_monitor(
        session_id=session.pk, device=label, sets=monitor_sets(parsed, device_id)
    )
    row.status = MessageStatus.ASSIGNED
    row.session_id = session.pk
    row.readings = len(charted.readings)
    row.assigned_by = acting_user
    row.assigned_at = timezone.now()
    row.save(update_fields=["status", "session", "readings", "assigned_by", "assigned_at"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="MonitorMessage",
        object_id=row.pk,
        patient_id=session.course.patient_id,
    )
    return len(charted.readings)


@transaction.atomic
def message_dismiss(*, acting_user: Any, message: MonitorMessage, reason: str) -> MonitorMessage:
    """The nurse says the queued readings belong to nobody (a monitor left on, a test):
    kept, with the reason, not charted."""
    require(acting_user, "session.chart")
    text = reason.strip()
    if not text:
        raise ValidationError({"reason": ["Say why these readings are not charted."]})
    row = MonitorMessage.objects.select_for_update().get(pk=message.pk)
    if row.status != MessageStatus.UNASSIGNED:
        raise ValidationError({"message": ["This message is no longer waiting."]})
    row.status = MessageStatus.DISMISSED
    row.reason = f"{row.reason} / dismissed: {text}"[:2000]
    row.assigned_by = acting_user
    row.assigned_at = timezone.now()
    row.save(update_fields=["status", "reason", "assigned_by", "assigned_at"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="MonitorMessage",
        object_id=row.pk,
        patient_id=None,
    )
    return row


# --- devices ----------------------------------------------------------------------------


@transaction.atomic
def device_save(
    *,
    acting_user: Any,
    device: MonitorDevice | None = None,
    name: str,
    device_id: str,
    sending_facility: str = "",
    chair: Chair | None = None,
    active: bool = True,
) -> MonitorDevice:
    """Register a monitor or change one (administrators)."""
    require(acting_user, "chair.edit")
    row = device or MonitorDevice()
    row.name = name.strip()
    row.device_id = device_id.strip()
    row.sending_facility = sending_facility.strip()
    row.chair = chair
    row.active = active
    row.full_clean()
    row.save()
    audit_record(
        actor=acting_user,
        action=Action.UPDATE if device else Action.CREATE,
        object_type="MonitorDevice",
        object_id=row.pk,
        patient_id=None,
    )
    return row


def monitor_sets_of(parsed: ParsedMessage) -> list[VitalsSet]:
    """The chartable sets of a parsed message (for pages that show a queued message)."""
    return vitals_sets(parsed)
