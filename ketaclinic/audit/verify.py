"""Checking the audit trail: the chain walked in order, each event's hash recomputed from its
payload (``services.event_payload``), the chain's head compared with its last event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.audit.models import AuditChainHead, AuditEvent
from ketaclinic.audit.services import event_payload
from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash


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
