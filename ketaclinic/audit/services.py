"""Writing the audit trail (checking it: ``verify.py``).

Every service that touches patient data calls :func:`audit_record` inside its own transaction,
so the event and the change commit or roll back together.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ketaclinic.audit import context
from ketaclinic.audit.models import Action, AuditChainHead, AuditEvent
from ketaclinic.lib.bulk import arrays_bound, copy_rows
from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash, chain_text_before

SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class AuditTarget:
    """What an event names: one record (object_id), or a page of several records of one type
    read at once (object_ids, object_id then empty: `page_target`)."""

    object_type: str
    object_id: str
    patient_id: UUID | None
    object_ids: tuple[str, ...] = ()


def page_target(
    object_type: str, object_ids: Sequence[str], patient_id: UUID | None
) -> AuditTarget:
    """One event for a page of records of one type and one patient read at once (a FHIR
    search page, issue 16): one record is named as any read is; several by their ids, in the
    order shown. Ids hold no white space (they are joined by spaces)."""
    ids = tuple(str(i) for i in object_ids)
    if not ids or any(not i or i != "".join(i.split()) for i in ids):
        raise ValueError("a page names one or more ids, none empty or with white space")
    if len(ids) == 1:
        return AuditTarget(object_type, ids[0], patient_id)
    return AuditTarget(object_type, "", patient_id, ids)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The fields the hash covers, in a form that is the same on every database. A page's ids
    (`object_ids`) only when there are some: every event written before they existed, and
    every event naming one record, keeps the payload and hash it had."""
    return payload_of(
        seq=event.seq,
        at=_timestamp(event.at),
        actor_id=event.actor_id,
        actor_role=event.actor_role,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        object_ids=event.object_ids,
        patient_id=event.patient_id,
        request_id=event.request_id,
        client_address=event.client_address,
    )


def payload_of(
    *,
    seq: int,
    at: str,
    actor_id: int | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    object_ids: str,
    patient_id: UUID | None,
    request_id: str,
    client_address: str,
) -> dict[str, Any]:
    """`event_payload` from the values (`at` as `_timestamp` gives it): the one builder of
    what the chain's hash covers, for model instances and plain rows alike."""
    return {
        "seq": seq,
        "at": at,
        "actor": actor_id,
        "actor_role": actor_role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        **({"object_ids": object_ids} if object_ids else {}),
        "patient_id": str(patient_id) if patient_id else None,
        "request_id": request_id,
        "client_address": client_address,
    }


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, SYSTEM_ROLE
    return int(actor.pk), str(actor.role)


@functools.cache
def _head_lock_sql() -> str:
    head = AuditChainHead._meta
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return f"SELECT seq, hash FROM {head.db_table} WHERE id = 1{lock}"  # noqa: S608  our name


def _head_locked() -> tuple[int, str]:
    """The chain head's (seq, hash), its row locked until the transaction ends.

    Written out by hand: every audited write in the clinic queues here, and the ORM's
    composing of this one-row read cost more CPU than the query. (SQLite takes its write
    lock at BEGIN, so there it needs no row lock.)
    """
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_head_lock_sql())
            row = cursor.fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
        _head_create()
    raise AuditChainHead.DoesNotExist


_EVENT_FIELDS = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)


@functools.lru_cache(maxsize=32)
def _append_sql(count: int, *, postgresql: bool, returning: bool) -> tuple[str, str]:
    """The insert of `count` events and the head's update; on PostgreSQL, one statement."""
    event, head = AuditEvent._meta, AuditChainHead._meta
    columns = ", ".join(str(f.column) for f in _EVENT_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_EVENT_FIELDS)) + ")"
    # Only our own table and column names are put into the text; values are parameters.
    insert = f"INSERT INTO {event.db_table} ({columns}) VALUES " + ", ".join([row] * count)  # noqa: S608
    if returning:
        insert += f" RETURNING {event.pk.column}"
    update = f"UPDATE {head.db_table} SET seq = %s, hash = %s WHERE id = 1"  # noqa: S608
    if postgresql:
        return f"WITH moved_head AS ({update}) {insert}", ""
    return insert, update


@functools.cache
def _append_arrays_sql() -> str:
    """PostgreSQL: any number of events in one statement of fixed text, each column one
    array bound in binary (`%b`), with the head's update riding along."""
    event, head = AuditEvent._meta, AuditChainHead._meta
    columns = ", ".join(str(f.column) for f in _EVENT_FIELDS)
    arrays = ", ".join(f"%b::{str(f.db_type(connection)).split('(')[0]}[]" for f in _EVENT_FIELDS)
    # Only our own table, column and type names are put into the text; values are parameters.
    return (
        f"WITH moved_head AS (UPDATE {head.db_table} SET seq = %b, hash = %b WHERE id = 1) "  # noqa: S608
        f"INSERT INTO {event.db_table} ({columns}) SELECT * FROM unnest({arrays}) "
        f"RETURNING {event.pk.column}"
    )


def _append(events: list[AuditEvent], *, seq: int, hash_: str) -> None:
    """Insert the events and move the head to the last of them, with the head locked.

    Written out by hand rather than `bulk_create` and `update`: this runs under the lock that
    every audited write in the clinic queues for, so it is one round trip on PostgreSQL (the
    head's update rides along as a data-modifying WITH) and costs the least CPU we can. For
    several events on PostgreSQL, each column is one binary array: the statement's text is
    the same for any count (psycopg caches and prepares it; a VALUES list of 200 events is
    2,200 parameters, converted anew each time: the monitor feed's batches, issue 17). The
    ids come back in the events' order, as Django's own UNNEST insert relies on.
    """
    postgresql = connection.vendor == "postgresql"
    returning = connection.features.can_return_rows_from_bulk_insert
    if len(events) > 1 and arrays_bound():
        columns = [
            [f.get_db_prep_save(getattr(e, f.attname), connection) for e in events]
            for f in _EVENT_FIELDS
        ]
        with connection.cursor() as cursor:
            cursor.execute(_append_arrays_sql(), [seq, hash_, *columns])
            for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
                event.pk = pk
                event._state.adding = False
                event._state.db = connection.alias
        return
    insert, update = _append_sql(len(events), postgresql=postgresql, returning=returning)
    values = [
        f.get_db_prep_save(getattr(e, f.attname), connection) for e in events for f in _EVENT_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(insert, [seq, hash_, *values] if postgresql else values)
        if returning:
            for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
                event.pk = pk
        if update:
            cursor.execute(update, [seq, hash_])
    for event in events:
        event._state.adding = False
        event._state.db = connection.alias


_CHAINED_FIELDS = ("seq", "prev_hash", "hash")


@functools.cache
def _append_one_sql() -> str:
    """PostgreSQL: lock the head, take the next position, finish the event's hash, insert the
    event and move the head, in one statement (see `_append_one`)."""
    event, head = AuditEvent._meta, AuditChainHead._meta
    data = [f for f in _EVENT_FIELDS if f.attname not in _CHAINED_FIELDS]
    columns = ", ".join(str(f.column) for f in data)
    values = ", ".join(["%s"] * len(data))
    # Only our own table and column names are put into the text; values are parameters.
    return (
        "WITH head AS (SELECT seq + 1 AS seq, hash AS prev_hash, "  # noqa: S608
        "encode(sha256(convert_to(hash || %s || (seq + 1)::text || '}', 'UTF8')), 'hex') AS hash "
        f"FROM {head.db_table} WHERE id = 1 FOR UPDATE), "
        f"moved AS (UPDATE {head.db_table} h SET seq = head.seq, hash = head.hash "
        "FROM head WHERE h.id = 1) "
        f"INSERT INTO {event.db_table} ({columns}, seq, prev_hash, hash) "
        f"SELECT {values}, head.seq, head.prev_hash, head.hash FROM head "
        f"RETURNING {event.pk.column}, seq, prev_hash, hash"
    )


def _append_one(event: AuditEvent) -> None:
    """Chain one event on PostgreSQL, the database finishing its hash under the head's lock.

    Python writes the event's canonical text up to its position (`chain_text_before`), the
    one field it cannot know before the lock; the statement then locks the head, appends
    the position and hashes with SHA-256 as `chain_hash` does, inserts the event and moves
    the head. So the clinic-wide lock is taken by the last statement of the transaction and
    held for that statement, the trip of its answer to the application and the commit.
    `audit_verify` recomputes every hash in Python, so a difference would show.

    The event's time is taken before the lock, so under concurrent writers two neighbours
    in the chain may be a few milliseconds out of time order; the chain's order is `seq`.
    """
    payload = event_payload(event)
    del payload["seq"]
    text = "\n" + chain_text_before(payload, "seq")
    data = [f for f in _EVENT_FIELDS if f.attname not in _CHAINED_FIELDS]
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in data]
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_append_one_sql(), [text, *values])
            row = cursor.fetchone()
        if row is not None:
            event.pk, event.seq, event.prev_hash, event.hash = row
            event._state.adding = False
            event._state.db = connection.alias
            return
        _head_create()
    raise AuditChainHead.DoesNotExist


def _head_create() -> None:
    try:  # the very first event (or a flushed test database): create the head once
        with transaction.atomic():
            AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
    except IntegrityError:
        pass  # another writer created it first


@functools.lru_cache(maxsize=64)
def _append_chained_sql(count: int) -> str:
    """PostgreSQL: `_append_one_sql` for `count` events, still one statement. A recursive
    WITH walks the events in order, each hash finished from its predecessor's as
    `chain_hash` does; the head moves to the last of them."""
    event, head = AuditEvent._meta, AuditChainHead._meta
    data = [f for f in _EVENT_FIELDS if f.attname not in _CHAINED_FIELDS]
    columns = ", ".join(str(f.column) for f in data)
    casts = ", ".join(f"%s::{f.db_type(connection)}" for f in data)
    rows = ", ".join([f"(%s::integer, %s::text, {casts})"] * count)
    # Only our own table and column names are put into the text; values are parameters.
    return (
        "WITH RECURSIVE head AS ("  # noqa: S608
        f"SELECT seq, hash FROM {head.db_table} WHERE id = 1 FOR UPDATE), "
        f"input (n, text, {columns}) AS (VALUES {rows}), "
        "chain (n, seq, prev_hash, hash) AS ("
        "SELECT 0, head.seq, ''::text, head.hash::text FROM head "
        "UNION ALL SELECT i.n, c.seq + 1, c.hash, encode(sha256(convert_to("
        "c.hash || i.text || (c.seq + 1)::text || '}', 'UTF8')), 'hex') "
        "FROM chain c JOIN input i ON i.n = c.n + 1), "
        f"moved AS (UPDATE {head.db_table} h SET seq = c.seq, hash = c.hash "
        f"FROM chain c WHERE h.id = 1 AND c.n = {int(count)}) "
        f"INSERT INTO {event.db_table} ({columns}, seq, prev_hash, hash) "
        f"SELECT {', '.join('i.' + str(f.column) for f in data)}, c.seq, c.prev_hash, c.hash "
        "FROM input i JOIN chain c ON c.n = i.n "
        f"RETURNING {event.pk.column}, seq, prev_hash, hash"
    )


def _append_chained(events: list[AuditEvent]) -> None:
    """Chain several events on PostgreSQL in one statement (see `_append_one`): the page
    that reads many rows audits them in one round trip, with no transaction of its own."""
    data = [f for f in _EVENT_FIELDS if f.attname not in _CHAINED_FIELDS]
    params: list[Any] = []
    for n, event in enumerate(events, start=1):
        payload = event_payload(event)
        del payload["seq"]
        params += [n, "\n" + chain_text_before(payload, "seq")]
        params += [f.get_db_prep_save(getattr(event, f.attname), connection) for f in data]
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_append_chained_sql(len(events)), params)
            rows = sorted(cursor.fetchall(), key=lambda row: row[1])
        if rows:
            for event, (pk, seq, prev_hash, hash_) in zip(events, rows, strict=True):
                event.pk, event.seq, event.prev_hash, event.hash = pk, seq, prev_hash, hash_
                event._state.adding = False
                event._state.db = connection.alias
            return
        _head_create()
    raise AuditChainHead.DoesNotExist


@functools.cache
def _append_chained_arrays_sql() -> str:
    """PostgreSQL: `_append_chained_sql` for any number of events in a statement of fixed
    text, each column one array bound in binary (as `_append_arrays_sql`): psycopg caches its
    conversion and PostgreSQL prepares it. (The text of `_append_chained_sql` grows with the
    count, past psycopg's cache limit for 20 events, so it was converted anew for every page
    of 20 reads: the FHIR search benchmark, issue 16.)"""
    event, head = AuditEvent._meta, AuditChainHead._meta
    data = [f for f in _EVENT_FIELDS if f.attname not in _CHAINED_FIELDS]
    columns = ", ".join(str(f.column) for f in data)
    arrays = ", ".join(f"%b::{str(f.db_type(connection)).split('(')[0]}[]" for f in data)
    # Only our own table, column and type names are put into the text; values are parameters.
    return (
        "WITH RECURSIVE head AS ("  # noqa: S608
        f"SELECT seq, hash FROM {head.db_table} WHERE id = 1 FOR UPDATE), "
        f"input AS (SELECT * FROM unnest(%b::text[], {arrays}) WITH ORDINALITY "
        f"AS i (text, {columns}, n)), "
        "chain (n, seq, prev_hash, hash) AS ("
        "SELECT 0::bigint, head.seq, ''::text, head.hash::text FROM head "
        "UNION ALL SELECT i.n, c.seq + 1, c.hash, encode(sha256(convert_to("
        "c.hash || i.text || (c.seq + 1)::text || '}', 'UTF8')), 'hex') "
        "FROM chain c JOIN input i ON i.n = c.n + 1), "
        f"moved AS (UPDATE {head.db_table} h SET seq = c.seq, hash = c.hash "
        "FROM chain c WHERE h.id = 1 AND c.n = (SELECT max(n) FROM input)) "
        f"INSERT INTO {event.db_table} ({columns}, seq, prev_hash, hash) "
        f"SELECT {', '.join('i.' + str(f.column) for f in data)}, c.seq, c.prev_hash, c.hash "
        "FROM input i JOIN chain c ON c.n = i.n "
        f"RETURNING {event.pk.column}, seq, prev_hash, hash"
    )


def _append_chained_arrays(events: list[AuditEvent]) -> None:
    """`_append_chained` with the events' columns bound as binary arrays (one statement of
    fixed text). The values go as they are held (datetimes, ints, strings, UUIDs): psycopg
    adapts each of these types itself."""
    data = [f for f in _EVENT_FIELDS if f.attname not in _CHAINED_FIELDS]
    texts = []
    for event in events:
        payload = event_payload(event)
        del payload["seq"]
        texts.append("\n" + chain_text_before(payload, "seq"))
    columns = [[getattr(e, f.attname) for e in events] for f in data]
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_append_chained_arrays_sql(), [texts, *columns])
            rows = sorted(cursor.fetchall(), key=lambda row: row[1])
        if rows:
            for event, (pk, seq, prev_hash, hash_) in zip(events, rows, strict=True):
                event.pk, event.seq, event.prev_hash, event.hash = pk, seq, prev_hash, hash_
                event._state.adding = False
                event._state.db = connection.alias
            return
        _head_create()
    raise AuditChainHead.DoesNotExist


CHAINED_MAX = 32
"""Up to this many events, PostgreSQL chains them in one statement (`_append_chained`: a page's
reads, one round trip). A larger batch (the monitor feed's 200 readings) is chained in Python
under the head's lock and inserted as binary arrays (`_append`): the one-statement form's text
and its ~11 parameters per event change with the count, so psycopg converts them anew and
never prepares it, which cost the feed more than the extra round trip (issue 17's bench)."""


def audit_record_many(
    *, actor: Any, action: Action | str, targets: Sequence[AuditTarget]
) -> list[AuditEvent]:
    """Append one event per target under the chain-head lock.

    On PostgreSQL, up to `CHAINED_MAX` events: one statement (atomic by itself); inside the
    caller's transaction it commits or rolls back with the change it records, and a read
    audited outside any transaction costs one round trip, with no BEGIN and COMMIT around it.
    Otherwise (SQLite, or a larger batch): the lock, the insert and the head's move, in a
    transaction of their own unless the caller's.
    """
    if not targets:
        return []
    actor_id, role = _actor_fields(actor)
    ctx = context.current()
    now = timezone.now()
    events = [
        AuditEvent(
            at=now,
            actor_id=actor_id,
            actor_role=role,
            action=Action(action).value,
            object_type=target.object_type,
            object_id=target.object_id,
            object_ids=" ".join(target.object_ids),
            patient_id=target.patient_id,
            request_id=ctx.request_id if ctx else "",
            client_address=ctx.client_address if ctx else "",
        )
        for target in targets
    ]
    batch = context.reads_batch() if events[0].action == Action.READ else None
    if batch is not None:
        # A read during a page request: written with the request's other reads, in one
        # statement, before the answer leaves (`audit_reads_flush`, from the middleware).
        batch.extend(events)
        return events
    _write(events)
    return events


def audit_record_batch(*, actor: Any, action: Action | str, targets: Sequence[AuditTarget]) -> int:
    """`audit_record_many` for a large batch whose events the caller does not need back (the
    monitor feed's readings, issue 17): on PostgreSQL with binary arrays, more than
    `CHAINED_MAX` events are chained from plain values, no model instance made (the same
    payloads and hashes: `payload_of`), under the head's lock: the head moved to the last of
    them, then the events written by binary COPY (formatted in C: the arrays of `_append`
    were dumped value by value in Python). Otherwise, and for reads (a page request collects
    them), `audit_record_many`. Returns how many."""
    action_value = Action(action).value
    if len(targets) <= CHAINED_MAX or action_value == Action.READ or not arrays_bound():
        return len(audit_record_many(actor=actor, action=action, targets=targets))
    actor_id, role = _actor_fields(actor)
    ctx = context.current()
    request_id = ctx.request_id if ctx else ""
    client_address = ctx.client_address if ctx else ""
    with transaction.atomic(savepoint=False):
        seq, prev = _head_locked()  # as late as possible: the lock is held until commit
        now = timezone.now()  # after the lock, so that times follow the chain's order
        at = _timestamp(now)
        rows: list[tuple[Any, ...]] = []
        for target in targets:
            seq += 1
            object_ids = " ".join(target.object_ids)
            hash_ = chain_hash(
                prev,
                payload_of(
                    seq=seq,
                    at=at,
                    actor_id=actor_id,
                    actor_role=role,
                    action=action_value,
                    object_type=target.object_type,
                    object_id=target.object_id,
                    object_ids=object_ids,
                    patient_id=target.patient_id,
                    request_id=request_id,
                    client_address=client_address,
                ),
            )
            rows.append(
                (
                    seq,
                    now,
                    actor_id,
                    role,
                    action_value,
                    target.object_type,
                    target.object_id,
                    object_ids,
                    target.patient_id,
                    request_id,
                    client_address,
                    prev,
                    hash_,
                )
            )
            prev = hash_
        sql, types = _copy_events_sql()
        with connection.cursor() as cursor:
            cursor.execute(_move_head_sql(), [seq, prev])
        copy_rows(sql, types, rows)
    return len(targets)


_COPIED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "object_ids",
    "patient_id",
    "request_id",
    "client_address",
    "prev_hash",
    "hash",
)


@functools.cache
def _copy_events_sql() -> tuple[str, tuple[str, ...]]:
    """PostgreSQL: COPY of events (binary; the rows in `_COPIED_FIELDS` order) and the
    columns' types."""
    by_name = {f.attname: f for f in _EVENT_FIELDS}
    if set(by_name) != set(_COPIED_FIELDS):
        raise RuntimeError("AuditEvent's fields changed: update _COPIED_FIELDS")
    fields = [by_name[name] for name in _COPIED_FIELDS]
    columns = ", ".join(str(f.column) for f in fields)
    types = tuple(str(f.db_type(connection)).split("(")[0] for f in fields)
    # Only our own table and column names are put into the text.
    return f"COPY {AuditEvent._meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)", types


@functools.cache
def _move_head_sql() -> str:
    return f"UPDATE {AuditChainHead._meta.db_table} SET seq = %s, hash = %s WHERE id = 1"  # noqa: S608  our name


def _write(events: list[AuditEvent]) -> None:
    if connection.vendor == "postgresql" and len(events) <= CHAINED_MAX:
        if len(events) == 1:
            _append_one(events[0])
        elif arrays_bound():
            _append_chained_arrays(events)
        else:
            _append_chained(events)
        return
    _append_locked(events)


def audit_reads_flush(events: list[AuditEvent]) -> None:
    """Write the read events a request collected (`context.reads_open`), in the order they
    were read, each with the time it was read: on PostgreSQL one statement per `CHAINED_MAX`
    events. The middleware calls it before the answer is sent, so a read that cannot be
    recorded is never shown (the request fails instead)."""
    for start in range(0, len(events), CHAINED_MAX):
        _write(events[start : start + CHAINED_MAX])


# No savepoint: the events belong to the caller's transaction, which rolls back whole if
# they fail (a savepoint would cost two more round trips while holding the chain lock).
@transaction.atomic(savepoint=False)
def _append_locked(events: list[AuditEvent]) -> None:
    seq, prev = _head_locked()  # as late as possible: the lock is held until commit
    now = timezone.now()  # after the lock, so that times follow the chain's order
    for event in events:
        seq += 1
        event.seq, event.at, event.prev_hash = seq, now, prev
        event.hash = chain_hash(prev, event_payload(event))
        prev = event.hash
    _append(events, seq=seq, hash_=prev)


def audit_record(
    *,
    actor: Any,
    action: Action | str,
    object_type: str,
    object_id: object,
    patient_id: UUID | None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records."""
    target = AuditTarget(object_type, str(object_id), patient_id)
    return audit_record_many(actor=actor, action=action, targets=[target])[0]


def audit_reads(user: Any, object_type: str, rows: Sequence[Any]) -> None:
    """Record that ``user`` read ``rows`` (each with ``pk`` and ``patient_id``), in one insert
    (one statement on PostgreSQL, else its own transaction); nothing when there are no rows."""
    if rows:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget(object_type, str(r.pk), r.patient_id) for r in rows],
        )
