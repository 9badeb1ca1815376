"""Writing and checking the audit trail.

Every service that touches patient data calls :func:`audit_record` inside its own transaction,
so the event and the change commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.audit import context
from ketaclinic.audit.models import Action, AuditChainHead, AuditEvent
from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash

SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class AuditTarget:
    object_type: str
    object_id: str
    patient_id: UUID | None


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The fields the hash covers, in a form that is the same on every database."""
    return {
        "seq": event.seq,
        "at": _timestamp(event.at),
        "actor": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient_id": str(event.patient_id) if event.patient_id else None,
        "request_id": event.request_id,
        "client_address": event.client_address,
    }


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, SYSTEM_ROLE
    return int(actor.pk), str(actor.role)


def _head_locked() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:  # the very first event (or a flushed test database): create the head once
        with transaction.atomic():
            AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
    except IntegrityError:
        pass  # another writer created it first
    return AuditChainHead.objects.select_for_update().get(pk=1)


@transaction.atomic
def audit_record_many(
    *, actor: Any, action: Action | str, targets: Sequence[AuditTarget]
) -> list[AuditEvent]:
    """Append one event per target, in one insert, under the chain-head lock."""
    if not targets:
        return []
    head = _head_locked()
    actor_id, role = _actor_fields(actor)
    ctx = context.current()
    now = timezone.now()
    events: list[AuditEvent] = []
    seq, prev = head.seq, head.hash
    for target in targets:
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=now,
            actor_id=actor_id,
            actor_role=role,
            action=Action(action).value,
            object_type=target.object_type,
            object_id=target.object_id,
            patient_id=target.patient_id,
            request_id=ctx.request_id if ctx else "",
            client_address=ctx.client_address if ctx else "",
            prev_hash=prev,
        )
        event.hash = chain_hash(prev, event_payload(event))
        prev = event.hash
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return events


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


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    event_id: int | None
    message: str

    def __str__(self) -> str:
        which = f"audit event seq={self.seq}"
        if self.event_id is not None:
            which += f" (id={self.event_id})"
        return f"{which}: {self.message}"


def audit_verify(events: Iterable[AuditEvent] | None = None) -> ChainProblem | None:
    """Walk the chain in order; return the first problem, or None when it is intact.

    Finds an edited event (its hash no longer matches), a removed one (a gap in the sequence,
    or a chain shorter than its head says) and an inserted one (its predecessor hash or its
    place does not fit).
    """
    rows = events if events is not None else AuditEvent.objects.order_by("seq").iterator(2000)
    expected_seq = 1
    prev = GENESIS_HASH
    for event in rows:
        if event.seq != expected_seq:
            return ChainProblem(
                event.seq,
                event.pk,
                f"expected seq={expected_seq} here: an event was removed or inserted",
            )
        if event.prev_hash != prev:
            return ChainProblem(event.seq, event.pk, "its predecessor hash does not match")
        if chain_hash(prev, event_payload(event)) != event.hash:
            return ChainProblem(event.seq, event.pk, "its content does not match its hash")
        prev = event.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS_HASH
    if head_seq != last_seq or head_hash != prev:
        return ChainProblem(
            last_seq + 1 if head_seq > last_seq else last_seq,
            None,
            f"the chain ends at seq={last_seq} but its head says seq={head_seq}: "
            "events at the end were removed or the head was altered",
        )
    return None
