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
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_batch
from ketaclinic.courses.models import Chair
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session
from ketaclinic.infusions.services import (
    CHARTING,
    MonitorCharted,
    MonitorFeedIn,
    MonitorSet,
    vitals_record_from_monitor,
    vitals_record_from_monitor_many,
)
from ketaclinic.lib.bulk import any_of, columns_insert
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

log = logging.getLogger("ketaclinic.monitors")

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


def _zone() -> tzinfo:
    """The clinic's zone (monitors send local time): Django's, kept until TIME_ZONE changes
    (settings read and a ZoneInfo looked up per message cost ~8% of the listener's reading
    thread in a burst; issue 17)."""
    return timezone.get_default_timezone()


def _ack(
    header: Header,
    code: str,
    text: str = "",
    error_code: str = "",
    *,
    now: datetime | None = None,
    ours: str = "",
) -> bytes:
    """The ACK, its own control id `K` and the time to the microsecond (a batch's ACKs share
    the time, taken once: `ours` is then that and the message's place in the batch)."""
    now = now or timezone.now()
    ours = ours or f"K{now:%Y%m%d%H%M%S%f}"
    return build_ack(header, code=code, text=text, error_code=error_code, control_id=ours, now=now)


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


class Incoming(NamedTuple):
    """A message read, before any database work (`message_read`): the listener reads each
    message as it arrives, while the database thread is busy with the previous batch. (A
    named tuple: one is made per message in the reading thread, where a frozen dataclass's
    `__init__` costs more.)"""

    raw_text: str
    header: Header
    parsed: ParsedMessage | None = None
    refused: MessageRefused | None = None
    sets: tuple[VitalsSet, ...] = ()


@dataclass(frozen=True, slots=True)
class _Device:
    """A registered monitor as routing needs it (a row, not a model instance)."""

    pk: int
    device_id: str
    name: str
    sending_facility: str
    chair_id: int | None

    @property
    def label(self) -> str:
        return MonitorDevice.label_of(self.name, self.device_id)


@dataclass
class _Work:
    """One message on its way through a batch (made afresh for each try of the batch)."""

    raw_text: str
    header: Header
    parsed: ParsedMessage | None = None
    refused: MessageRefused | None = None
    device: _Device | None = None
    sets: Sequence[VitalsSet] = ()
    session_id: UUID | None = None
    reason: str = ""
    charted: MonitorCharted | None = None


def message_read(raw: bytes) -> Incoming:
    """Parse one framed payload (pure: no database). What cannot be read is refused (AR);
    an unexpected failure of the parser is answered AE with its type, never raised into the
    listener."""
    raw_text, _ = decode(raw)
    try:
        parsed = parse_message(raw, default_tz=_zone())
    except MessageRefused as refused:
        return Incoming(raw_text, header_fallback(raw_text), refused=refused)
    except Exception as error:
        log.error("monitor message not read: %s", type(error).__name__)
        failed = MessageRefused(
            f"application error ({type(error).__name__}): not read", ack_code="AE"
        )
        return Incoming(raw_text, header_fallback(raw_text), refused=failed)
    return Incoming(raw_text, parsed.header, parsed=parsed, sets=tuple(vitals_sets(parsed)))


def _work(item: bytes | Incoming) -> _Work:
    read = message_read(item) if isinstance(item, bytes) else item
    return _Work(read.raw_text, read.header, read.parsed, read.refused, sets=read.sets)


def _devices(works: Sequence[_Work]) -> None:
    """Each message's registered, active monitor (OBX-18 ids first, then MSH-3), when its
    sending facility matches where one is registered: one query for the batch."""
    ids = sorted({i for w in works if w.parsed for i in w.parsed.device_ids})
    if not ids:
        return
    where, params = any_of(ids, "text")
    # Only the model's own table name is put into the text; the ids are parameters.
    sql = (
        "SELECT id, device_id, name, sending_facility, chair_id "  # noqa: S608
        f"FROM {MonitorDevice._meta.db_table} WHERE active AND device_id {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {row[1]: _Device(*row) for row in cursor.fetchall()}
    for work in works:
        if work.parsed is None:
            continue
        for candidate in work.parsed.device_ids:
            device = found.get(candidate)
            facility = device.sending_facility if device else ""
            if device and (not facility or facility == work.parsed.header.sending_facility):
                work.device = device
                break


def _route(
    work: _Work, open_by_chair: dict[int, list[UUID]], check_ins: dict[UUID, datetime]
) -> None:
    if work.parsed is None or work.parsed.skipped or not work.sets:
        return
    if work.device is None:
        work.reason = "the monitor is not registered (or not active)"
        return
    if work.device.chair_id is None:
        work.reason = f"{work.device.name} is not assigned to a chair"
        return
    candidates = open_by_chair.get(work.device.chair_id, [])
    if not candidates:
        work.reason = "no session is checked in, infusing or in recovery in the chair"
        return
    if len(candidates) > 1:
        work.reason = "more than one session is open in the chair: a nurse must choose"
        return
    at = datetime.fromisoformat(work.parsed.observed_at)
    check_in = check_ins.get(candidates[0])
    if check_in is not None and at < check_in - CHECK_IN_SLACK:
        work.reason = "the reading was taken before the session in the chair checked in"
        return
    work.session_id = candidates[0]


def _open_sessions(chairs: list[int]) -> list[tuple[UUID, int, datetime | None]]:
    """(session, chair, first check-in) of each session charting in these chairs. On
    PostgreSQL one statement of fixed text (prepared); elsewhere the same through the ORM."""
    if connection.vendor != "postgresql":
        rows = Session.objects.filter(chair_id__in=chairs, status__in=CHARTING).values_list(
            "pk", "chair_id"
        )
        firsts: dict[UUID, datetime] = {}
        for session_id, at in ChartEntry.objects.filter(
            session_id__in=[pk for pk, _ in rows], kind=ChartEntryKind.CHECK_IN
        ).values_list("session_id", "at"):
            firsts[session_id] = min(at, firsts.get(session_id, at))
        return [(pk, chair, firsts.get(pk)) for pk, chair in rows]
    session, entry = Session._meta.db_table, ChartEntry._meta.db_table
    # Only our own table names are put into the text; values are parameters.
    sql = (
        f"SELECT s.id, s.chair_id, (SELECT min(e.at) FROM {entry} e "  # noqa: S608
        f"WHERE e.session_id = s.id AND e.kind = %s) FROM {session} s "
        "WHERE s.chair_id = ANY(%s) AND s.status = ANY(%s)"
    )
    with connection.cursor() as cursor:
        statuses = [str(status.value) for status in CHARTING]
        cursor.execute(sql, [str(ChartEntryKind.CHECK_IN.value), chairs, statuses])
        return list(cursor.fetchall())


def _sessions(works: Sequence[_Work]) -> None:
    """The session checked in, infusing or in recovery in each monitor's chair at the
    reading's time, or why none: one query for the batch."""
    chairs = {w.device.chair_id for w in works if w.device and w.device.chair_id and w.sets}
    open_by_chair: dict[int, list[UUID]] = {}
    check_ins: dict[UUID, datetime] = {}
    if chairs:
        # One query, each session with its first check-in: every round trip counts in the
        # ACK's latency when the machine is busy.
        for pk, chair_id, checked_in in _open_sessions(sorted(chairs)):
            open_by_chair.setdefault(chair_id, []).append(pk)
            if checked_in is not None:
                check_ins[pk] = checked_in
    for work in works:
        _route(work, open_by_chair, check_ins)


def _outcome(work: _Work) -> tuple[str, str, str, str]:
    """(status, ACK code, reason, HL7 error code) of a routed message."""
    if work.refused is not None:
        refused = work.refused
        return MessageStatus.REFUSED, refused.ack_code, refused.reason, refused.error_code
    assert work.parsed is not None
    if work.parsed.skipped:
        return MessageStatus.SKIPPED, "AA", work.parsed.skipped, ""
    if not work.sets:
        return MessageStatus.NOTHING, "AA", "no chartable value in the message", ""
    if work.charted is None:
        return MessageStatus.UNASSIGNED, "AA", work.reason, ""
    return MessageStatus.CHARTED, "AA", "", ""


def _feed_in(work: _Work) -> MonitorFeedIn:
    assert work.session_id is not None and work.device is not None
    device = work.device
    return MonitorFeedIn(
        session_id=work.session_id,
        device=device.label,
        sets=[
            MonitorSet(at=s.at, values=s.values, key=_key(device.device_id, s.key))
            for s in work.sets
        ],
    )


MESSAGE_COLUMNS = (
    "received_at",
    "raw",
    "control_id",
    "message_type",
    "sending_ids",
    "device_id",
    "observed_at",
    "status",
    "reason",
    "parse_json",
    "ack_code",
    "session_id",
    "readings",
)


def _json_text(value: dict[str, Any]) -> str:
    """The kept parse result's JSON text, compact, by orjson: 2 us a message against 18-25
    us for the json module's C encoder, the largest single cost of the burst's database
    thread (issue 17). Its readings are named tuples, which orjson hands to `default`:
    written as arrays, as the json module writes them."""
    return orjson.dumps(value, default=tuple).decode()


def _message_row(
    work: _Work, status: str, code: str, reason: str, now: datetime
) -> tuple[Any, ...]:
    """The message's row, in `MESSAGE_COLUMNS` order (a tuple: no model instance)."""
    result_json: dict[str, Any] = work.parsed.as_json() if work.parsed else {}
    charted = work.charted
    if charted is not None:
        result_json["duplicates"] = charted.duplicates
        result_json["dropped"] = charted.dropped
    parsed = work.parsed
    header = work.header
    return (
        now,
        work.raw_text[:RAW_MAX],
        header.control_id[:100],
        f"{header.message_type}^{header.trigger}"[:16],
        " ".join(parsed.device_ids if parsed else ())[:300],
        work.device.pk if work.device else None,
        datetime.fromisoformat(parsed.observed_at) if parsed else None,
        status,
        reason[:2000],
        _json_text(result_json),
        code,
        work.session_id if charted is not None else None,
        len(charted.readings) if charted else 0,
    )


QUEUED = (MessageStatus.UNASSIGNED, MessageStatus.ASSIGNED, MessageStatus.DISMISSED)


def _resends_of_queued(works: Sequence[_Work], outcomes: list[tuple[str, str, str, str]]) -> None:
    """A monitor resends a message whose ACK it missed: when the first copy is already in
    the nurse's queue (or was assigned or dismissed from it), the copy is kept but not queued
    again, so that the same readings cannot be assigned twice. One query for the batch."""
    waiting = [i for i, o in enumerate(outcomes) if o[0] == MessageStatus.UNASSIGNED]
    if not waiting:
        return
    controls = {works[i].header.control_id for i in waiting}
    known = {
        (control, ids): pk
        for pk, control, ids in MonitorMessage.objects.filter(
            control_id__in=controls, status__in=QUEUED
        ).values_list("pk", "control_id", "sending_ids")
    }
    for i in waiting:
        work = works[i]
        ids = " ".join(work.parsed.device_ids if work.parsed else ())[:300]
        key = (work.header.control_id[:100], ids)
        if key in known:
            earlier = f"message {known[key]}" if known[key] else "a message in the same batch"
            outcomes[i] = (MessageStatus.NOTHING, "AA", f"a resend of {earlier}", "")
        else:
            known[key] = 0  # a second copy within this batch


def _receive_batch(works: Sequence[_Work]) -> list[Received]:
    _devices(works)
    _sessions(works)
    routed = [w for w in works if w.session_id is not None and w.device is not None]
    audit_targets: list[AuditTarget] = []
    charted = vitals_record_from_monitor_many(
        [_feed_in(w) for w in routed], audit_later=audit_targets
    )
    for work, result in zip(routed, charted, strict=True):
        if isinstance(result, str):
            work.reason, work.session_id = result, None
        else:
            work.charted = result
    outcomes = [_outcome(work) for work in works]
    _resends_of_queued(works, outcomes)
    # The batch's rows at once (`lib.bulk.columns_insert`: keys from the sequence, then a
    # binary COPY; Django's text arrays escaped every quote of the raw messages by regex).
    now = timezone.now()
    rows = [_message_row(w, o[0], o[1], o[2], now) for w, o in zip(works, outcomes, strict=True)]
    stored = columns_insert(
        MonitorMessage,
        {name: [row[i] for row in rows] for i, name in enumerate(MESSAGE_COLUMNS)},
    )
    # Last: the audit chain's head is locked from here until the commit (one event per
    # reading charted, as for typed vitals).
    audit_record_batch(actor=None, action=Action.CREATE, targets=audit_targets)
    stamp = f"K{now:%Y%m%d%H%M%S%f}"
    return [
        Received(
            ack=_ack(
                work.header,
                code,
                reason if code != "AA" else "",
                error_code,
                now=now,
                ours=f"{stamp}.{place}",
            ),
            ack_code=code,
            status=status,
            message_id=pk,
            readings=len(work.charted.readings) if work.charted else 0,
            alerts=len(work.charted.alerts) if work.charted else 0,
        )
        for place, (work, pk, (status, code, reason, error_code)) in enumerate(
            zip(works, stored, outcomes, strict=True)
        )
    ]


def messages_receive(items: Sequence[bytes | Incoming]) -> list[Received]:
    """Take a batch of framed payloads (or messages already read, `message_read`) in one
    transaction, with a fixed number of queries; one result per item, in order. A database
    error raises (nothing of the batch is stored): the caller holds and retries, then answers
    AE. Any other failure (and a unique-key race with another listener) is retried message by
    message, so that one bad message cannot stop the others; one that still fails is answered
    AE (its error's type logged, nothing about the patient)."""
    works = [_work(item) for item in items]  # parsing is pure: before the transaction
    try:
        with transaction.atomic():
            return _receive_batch(works)
    except DatabaseError as error:
        if not isinstance(error, IntegrityError):
            raise
        if len(items) > 1:
            return [r for item in items for r in messages_receive([item])]
        return [_application_error(works[0], error)]
    except Exception as error:
        if len(items) > 1:
            return [r for item in items for r in messages_receive([item])]
        return [_application_error(works[0], error)]


def _application_error(work: _Work, error: Exception) -> Received:
    control = work.header.control_id[:40]
    log.error("monitor message %s not taken: %s", control, type(error).__name__)
    text = f"application error ({type(error).__name__}): send again"
    return Received(_ack(work.header, "AE", text, "207"), "AE", "error", None)


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
