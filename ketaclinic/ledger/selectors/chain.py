"""The ledger's rows as the pure entries: quantities, references, the hash payload, a container's
ledger replayed with `apply`, and the verification of the whole chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ketaclinic.ledger import entries as pure
from ketaclinic.ledger.arithmetic import ContainerState, DrawState, LedgerState, apply
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry

ML_QUANTUM = Decimal("0.0001")
"""Volumes are stored with 4 decimal places (a tenth of a microlitre)."""

MG_TOLERANCE = Decimal("0.001")
"""Chart and ledger agree when they differ by less than rounding mL to 4 places can cause."""


def ml_quantize(value: Decimal) -> Decimal:
    return value.quantize(ML_QUANTUM, rounding=ROUND_HALF_EVEN)


def entry_ref(seq: int) -> str:
    """The id of a stored entry inside the pure ledger (and on paper): L<seq>."""
    return f"L{seq}"


def _d(value: Any) -> Decimal:
    """A stored quantity as the database gives it back (4 decimal places), so that an entry
    hashes the same when written and when verified."""
    return ml_quantize(Decimal(str(value)))


def entry_to_pure(row: LedgerEntry, container: Container, seq_by_pk: dict[int, int]) -> pure.Entry:
    """The pure entry that a stored row stands for. `seq_by_pk` maps the ids of the rows it
    refers to (its draw, the entry it corrects) to their chain positions."""
    eid = entry_ref(row.seq)
    cid = str(container.pk)
    draw_ref = entry_ref(seq_by_pk[row.draw_id]) if row.draw_id is not None else None
    ml = _d(row.ml)
    match row.kind:
        case EntryKind.RECEIPT:
            vial = pure.Container(
                container_id=cid,
                mg_per_ml=_d(container.mg_per_ml),
                nominal_ml=_d(container.nominal_ml),
                expires_on=container.expires_on,
                ndc=container.ndc,
                lot=container.lot,
            )
            return pure.Receipt(eid, vial, ml, str(row.storage_id))
        case EntryKind.DRAW:
            return pure.Draw(eid, cid, str(row.session_id), ml)
        case EntryKind.ADMINISTRATION:
            return pure.Administration(eid, draw_ref or "", ml)
        case EntryKind.WASTE:
            return pure.Waste(eid, draw_ref or "", ml)
        case EntryKind.TRANSFER:
            return pure.Transfer(
                eid, cid, str(row.details.get("from_storage", "")), str(row.storage_id)
            )
        case EntryKind.RETURN:
            return pure.Return(eid, cid, ml)
        case EntryKind.DESTRUCTION:
            return pure.Destruction(eid, cid, ml)
        case EntryKind.BREAKAGE:
            return pure.Breakage(eid, cid, ml, draw_ref)
        case EntryKind.LOSS:
            return pure.Loss(eid, cid, ml, draw_ref)
        case EntryKind.COUNT:
            return pure.Count(
                eid,
                cid,
                _d(row.details["expected_ml"]),
                _d(row.details["counted_ml"]),
                bool(row.details.get("estimated", False)),
            )
        case EntryKind.QUARANTINE:
            return pure.Quarantine(eid, cid, row.reason)
        case EntryKind.QUARANTINE_RELEASE:
            return pure.QuarantineRelease(eid, cid, row.reason)
        case EntryKind.CORRECTION:
            assert row.corrects_id is not None
            return pure.Correction(eid, entry_ref(seq_by_pk[row.corrects_id]), ml, row.reason)
    raise ValueError(f"unknown ledger entry kind {row.kind!r}")


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash_payload(
    row: LedgerEntry, container: Container, seq_by_pk: dict[int, int]
) -> dict[str, Any]:
    """What the hash covers: the pure entry plus who, when, where, how and the kind's data."""
    return {
        "seq": row.seq,
        "entry": pure.entry_payload(entry_to_pure(row, container, seq_by_pk)),
        "container": row.container_id,
        "kind": row.kind,
        "ml": str(_d(row.ml)),
        "session": str(row.session_id) if row.session_id else None,
        "storage": row.storage_id,
        "reason": row.reason,
        "method": row.method,
        "details": row.details,
        "actor": row.actor_id,
        "witness": row.witness_id,
        "second_witness": row.second_witness_id,
        "at": _timestamp(row.at),
    }


@dataclass(frozen=True)
class ContainerLedger:
    """A container's stored entries and the pure state they replay to."""

    container: Container
    rows: list[LedgerEntry]
    state: LedgerState
    seq_by_pk: dict[int, int]

    @property
    def current(self) -> ContainerState:
        return self.state.containers[str(self.container.pk)]

    def draw_state(self, draw_row: LedgerEntry) -> DrawState:
        return self.state.draws[entry_ref(draw_row.seq)]


def container_ledger(
    container: Container, rows: Iterable[LedgerEntry] | None = None
) -> ContainerLedger:
    """Replay a container's entries (expiry not checked: they were accepted when recorded)."""
    ordered = (
        list(rows)
        if rows is not None
        else list(LedgerEntry.objects.filter(container=container).order_by("seq"))
    )
    seq_by_pk = {row.pk: row.seq for row in ordered}
    state = LedgerState()
    for row in ordered:
        state = apply(state, entry_to_pure(row, container, seq_by_pk), today=None)
    return ContainerLedger(container, ordered, state, seq_by_pk)


def containers_replayed(
    containers: Mapping[int, Container], pks: Iterable[int]
) -> dict[int, ContainerLedger]:
    """These containers' entries, read in one statement, each container's replayed (the stock
    pages and the chart's draws replay only the containers written to since they last did)."""
    entries: dict[int, list[LedgerEntry]] = {pk: [] for pk in pks}
    if not entries:
        return {}
    for row in LedgerEntry.objects.filter(container_id__in=list(entries)).order_by("seq"):
        row.container = containers[row.container_id]
        entries[row.container_id].append(row)
    return {pk: container_ledger(containers[pk], rows) for pk, rows in entries.items()}


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerProblem:
    seq: int | None
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        if self.seq is None:
            return self.message
        which = f"ledger entry {entry_ref(self.seq)}"
        if self.entry_id is not None:
            which += f" (id={self.entry_id})"
        return f"{which}: {self.message}"


def _finished_problems(
    states: dict[int, LedgerState], broken: set[int], became: dict[int, int]
) -> list[LedgerProblem]:
    """The kept finished markers against the replay: one for each finished container (with
    the entry that finished it), none for any other (the pages count a marked container
    instead of replaying it, so a wrong marker would hide a container that holds drug)."""
    from ketaclinic.ledger.models import ContainerFinished

    kept = dict(ContainerFinished.objects.values_list("container_id", "seq"))
    problems = []
    for cid in sorted(set(kept) | set(became)):
        if cid in broken:
            continue
        if cid not in became:
            problems.append(
                LedgerProblem(
                    None,
                    None,
                    f"container {cid} is marked finished but its entries say it is not "
                    "(it holds something, a draw from it is open, or it is quarantined)",
                )
            )
        elif cid not in kept:
            problems.append(
                LedgerProblem(
                    None,
                    None,
                    f"container {cid} is finished at {entry_ref(became[cid])} but has no "
                    "finished marker",
                )
            )
        elif kept[cid] != became[cid]:
            problems.append(
                LedgerProblem(
                    None,
                    None,
                    f"container {cid}'s finished marker names {entry_ref(kept[cid])}, but "
                    f"its entries finish it at {entry_ref(became[cid])}",
                )
            )
    return problems


def ledger_verify() -> list[LedgerProblem]:
    """Check the chain (every entry's hash, predecessor and place), every container's
    balance (each entry replayed with the pure `apply`, and the invariant after the last) and
    the finished markers against the replay.
    Returns the problems, the first broken entry first; empty when the ledger is intact."""
    from ketaclinic.ledger.arithmetic import invariant_problems
    from ketaclinic.ledger.entries import LedgerRefused
    from ketaclinic.ledger.models import LedgerChainHead
    from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash

    problems: list[LedgerProblem] = []
    containers = {c.pk: c for c in Container.objects.all()}
    seq_by_pk: dict[int, int] = {}
    states: dict[int, LedgerState] = {}
    expected_seq = 1
    prev = GENESIS_HASH
    chain_ok = True
    broken: set[int] = set()
    became: dict[int, int] = {}  # finished containers: the entry that last finished each
    for row in LedgerEntry.objects.order_by("seq").iterator(2000):
        container = containers[row.container_id]
        seq_by_pk[row.pk] = row.seq
        if chain_ok:
            if row.seq != expected_seq:
                problems.append(
                    LedgerProblem(
                        row.seq,
                        row.pk,
                        f"expected L{expected_seq} here: an entry was removed or inserted",
                    )
                )
                chain_ok = False
            elif row.prev_hash != prev:
                problems.append(
                    LedgerProblem(row.seq, row.pk, "its predecessor hash does not match")
                )
                chain_ok = False
            else:
                try:
                    payload = entry_hash_payload(row, container, seq_by_pk)
                except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
                    problems.append(LedgerProblem(row.seq, row.pk, f"it cannot be read: {exc}"))
                    chain_ok = False
                else:
                    if chain_hash(prev, payload) != row.hash:
                        problems.append(
                            LedgerProblem(row.seq, row.pk, "its content does not match its hash")
                        )
                        chain_ok = False
            prev = row.hash
            expected_seq = row.seq + 1
        if container.pk in broken:
            continue
        state = states.get(container.pk, LedgerState())
        try:
            states[container.pk] = apply(
                state, entry_to_pure(row, container, seq_by_pk), today=None
            )
            if not states[container.pk].containers[str(container.pk)].finished:
                became.pop(container.pk, None)
            else:
                became.setdefault(container.pk, row.seq)
        except (LedgerRefused, KeyError, ValueError, TypeError, ArithmeticError) as exc:
            reason = exc.reason if isinstance(exc, LedgerRefused) else str(exc)
            broken.add(container.pk)
            problems.append(
                LedgerProblem(
                    row.seq, row.pk, f"container {container.pk}'s balance does not add up: {reason}"
                )
            )
    for cid, state in states.items():
        if cid in broken:
            continue
        for problem in invariant_problems(state):
            problems.append(LedgerProblem(None, None, f"container {cid}: {problem}"))
    problems.extend(_finished_problems(states, broken, became))
    if chain_ok:
        head = LedgerChainHead.objects.filter(pk=1).first()
        head_seq = head.seq if head else 0
        head_hash = head.hash if head else GENESIS_HASH
        if head_seq != expected_seq - 1 or head_hash != prev:
            problems.append(
                LedgerProblem(
                    None,
                    None,
                    f"the ledger chain ends at L{expected_seq - 1} but its head says "
                    f"L{head_seq}: entries at the end were removed or the head was altered",
                )
            )
    return problems
