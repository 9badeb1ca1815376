"""What every ledger write shares: the input checks, the locks (the containers in id order,
then the chain head) and `_append`, which checks each entry with the pure `apply` and
hash-chains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.ledger.arithmetic import apply
from ketaclinic.ledger.dea import dea_number_normalise, dea_number_problems
from ketaclinic.ledger.entries import ZERO
from ketaclinic.ledger.models import (
    Container,
    ContainerFinished,
    LedgerChainHead,
    LedgerEntry,
    StorageLocation,
)
from ketaclinic.ledger.selectors import (
    ContainerLedger,
    container_ledger,
    entry_hash_payload,
    entry_to_pure,
    ml_quantize,
)
from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash


def _patient_of(session: Any) -> Any:
    if session is None:
        return None
    return session.course.patient_id


def _audit(actor: Any, action: Action, object_type: str, pairs: Sequence[tuple[Any, Any]]) -> None:
    audit_record_many(
        actor=actor,
        action=action,
        targets=[AuditTarget(object_type, str(oid), patient) for oid, patient in pairs],
    )


def _dea_check(number: str, field: str, *, last_name: str | None = None) -> str:
    problems = dea_number_problems(number, registrant_last_name=last_name)
    if problems:
        raise ValidationError({field: problems})
    return dea_number_normalise(number)


def _positive_ml(value: Decimal, field: str) -> Decimal:
    if not value.is_finite() or value <= ZERO:
        raise ValidationError({field: [f"Must be more than 0 mL (got {value})."]})
    quantized = ml_quantize(value)
    if quantized != value:
        raise ValidationError({field: ["Give the volume with at most 4 decimal places."]})
    return quantized


def _head_locked() -> LedgerChainHead:
    head = LedgerChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            LedgerChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
    except IntegrityError:
        pass  # another writer created it first
    return LedgerChainHead.objects.select_for_update().get(pk=1)


def _containers_locked(ids: Sequence[int]) -> dict[int, Container]:
    """Lock the container rows in id order (so two writers never wait on each other in a
    circle); every movement of a container holds its lock until commit."""
    rows = Container.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    found = {row.pk: row for row in rows}
    if len(found) != len(set(ids)):
        raise Container.DoesNotExist
    return found


@dataclass
class _Pending:
    """An entry to append: everything but its position and hash."""

    container: Container
    kind: str
    ml: Decimal = ZERO
    draw: LedgerEntry | None = None
    session: Any = None
    corrects: LedgerEntry | None = None
    storage: StorageLocation | None = None
    reason: str = ""
    method: str = ""
    details: dict[str, Any] | None = None
    witness: Any = None
    second_witness: Any = None


def _is_finished(ledger: ContainerLedger) -> bool:
    current = ledger.state.containers.get(str(ledger.container.pk))
    return current is not None and current.finished


def _finished_keep(before: dict[int, bool], after: dict[int, bool], became: dict[int, int]) -> None:
    """The finished markers of the containers just written to, as their replayed state says:
    removed when a container is no longer finished (a correction can revive it), written
    (with the entry that finished it) when it became finished; nothing to do otherwise, so
    most writes cost no statement more. The containers are locked meanwhile."""
    revived = [cid for cid, done in after.items() if before[cid] and not done]
    if revived:
        ContainerFinished.objects.filter(container_id__in=revived).delete()
    done = [
        ContainerFinished(container_id=cid, seq=seq) for cid, seq in became.items() if after[cid]
    ]
    if done:
        ContainerFinished.objects.bulk_create(
            done, update_conflicts=True, update_fields=["seq"], unique_fields=["container"]
        )


def _append(*, acting_user: Any, pending: Sequence[_Pending]) -> list[LedgerEntry]:
    """Check each entry against its container's replayed ledger and append them all.

    Call inside a transaction. The containers are locked first, then the chain head.
    """
    locked = _containers_locked([p.container.pk for p in pending])
    ledgers = {cid: container_ledger(c) for cid, c in locked.items()}
    before = {cid: _is_finished(ledger) for cid, ledger in ledgers.items()}
    after = dict(before)
    became: dict[int, int] = {}  # the entry at which a container last became finished
    head = _head_locked()
    seq, prev = head.seq, head.hash
    now = timezone.now()
    today = timezone.localdate()
    rows: list[LedgerEntry] = []
    for item in pending:
        container = locked[item.container.pk]
        ledger = ledgers[container.pk]
        seq += 1
        row = LedgerEntry(
            seq=seq,
            container=container,
            kind=item.kind,
            ml=item.ml,
            draw=item.draw,
            session=item.session,
            corrects=item.corrects,
            storage=item.storage,
            reason=item.reason,
            method=item.method,
            details=item.details or {},
            actor=acting_user,
            witness=item.witness,
            second_witness=item.second_witness,
            at=now,
            prev_hash=prev,
        )
        seq_by_pk = dict(ledger.seq_by_pk)
        entry = entry_to_pure(row, container, seq_by_pk)
        state = apply(ledger.state, entry, today=today)  # LedgerRefused: nothing is stored
        row.hash = chain_hash(prev, entry_hash_payload(row, container, seq_by_pk))
        row.save()
        prev = row.hash
        seq_by_pk[row.pk] = row.seq
        ledger = type(ledger)(container, [*ledger.rows, row], state, seq_by_pk)
        ledgers[container.pk] = ledger
        rows.append(row)
        finished = state.containers[str(container.pk)].finished
        if finished and not after[container.pk]:
            became[container.pk] = row.seq
        after[container.pk] = finished
    LedgerChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    _finished_keep(before, after, became)
    _audit(
        acting_user,
        Action.CREATE,
        "LedgerEntry",
        [(row.pk, _patient_of(row.session)) for row in rows],
    )
    return rows
