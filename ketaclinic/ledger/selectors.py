"""Reads of the ketamine ledger: rows turned into the pure entries and replayed, session checks
for signing, and access-checked lookups for the pages and the API.

How the administered amount reaches the ledger (the choice, documented here): the chart owns
the dose. When the infusion stops, the chart calls
`ketaclinic.ledger.services.ledger_administration_record(acting_user=..., session=...)`, which
records Administration entries against the session's draws (the charted `administered_mg`
converted to millilitres with each container's concentration, filling the draws in the order
they were drawn). Until it has been called, `session_ledger_problems` computes the same split
from the chart at reconciliation time, so a session can be checked before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.ledger import entries as pure
from ketaclinic.ledger.arithmetic import (
    ContainerState,
    DrawState,
    LedgerState,
    apply,
    reconcile_session,
)
from ketaclinic.ledger.entries import ZERO, ml_text
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Investigation,
    InvestigationStatus,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)

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


# --- sessions --------------------------------------------------------------------------------


def administration_split(
    draws: Sequence[tuple[LedgerEntry, DrawState]], mg: Decimal
) -> tuple[list[tuple[LedgerEntry, Decimal]], Decimal]:
    """Split an administered dose over a session's open draws, in the order drawn.

    Returns (draw row, mL) pairs and the milligrams that did not fit in any draw.
    """
    remaining = mg
    split: list[tuple[LedgerEntry, Decimal]] = []
    for row, draw in draws:
        if remaining <= ZERO:
            break
        open_ml = draw.open_ml
        if open_ml <= ZERO:
            continue
        need_ml = ml_quantize(remaining / draw.mg_per_ml)
        take = min(need_ml, open_ml)
        split.append((row, take))
        remaining = remaining - take * draw.mg_per_ml
        if take == need_ml:
            remaining = ZERO
    return split, max(remaining, ZERO)


def session_draws(session: Any) -> list[tuple[LedgerEntry, DrawState, ContainerLedger]]:
    """The session's draws, in the order drawn, each with its replayed state."""
    rows = list(
        LedgerEntry.objects.filter(session=session, kind=EntryKind.DRAW)
        .select_related("container")
        .order_by("seq")
    )
    ledgers: dict[int, ContainerLedger] = {}
    result = []
    for row in rows:
        if row.container_id not in ledgers:
            ledgers[row.container_id] = container_ledger(row.container)
        ledger = ledgers[row.container_id]
        result.append((row, ledger.draw_state(row), ledger))
    return result


def _mg_text(value: Decimal) -> str:
    # Read by people at signing: 32 mg, 36.3 mg (the database hands back 32.0000).
    return f"{value.quantize(Decimal('0.001')).normalize():f} mg"


def session_ledger_problems(session: Any) -> list[str]:
    """Why the session may not be signed as far as the ledger is concerned (empty: it may).

    * ketamine charted as given (`administered_mg`) but never drawn from the ledger;
    * draws but no administered dose charted;
    * the ledger's recorded administrations differ from the chart;
    * a draw whose administered + wasted (+ broken or lost) differs from what was drawn.
    """
    charted: Decimal | None = getattr(session, "administered_mg", None)
    draws = session_draws(session)
    if not draws:
        if charted is not None and charted > ZERO:
            return [
                f"Ketamine is charted as given ({_mg_text(charted)}) but no draw from the "
                "ledger is recorded for this session (0 mg drawn)."
            ]
        return []
    problems: list[str] = []
    if charted is None:
        problems.append(
            "Ketamine was drawn from the ledger for this session but no administered dose is "
            "charted."
        )
        charted = ZERO
    recorded_mg = sum((draw.administered_mg for _, draw, _ in draws), ZERO)
    extra_ml: dict[int, Decimal] = {}
    if recorded_mg == ZERO and charted > ZERO:
        # Not yet recorded in the ledger: check the split the chart would record.
        split, unplaced = administration_split([(r, d) for r, d, _ in draws], charted)
        extra_ml = {row.pk: ml for row, ml in split}
        if unplaced > MG_TOLERANCE:
            drawn_mg = sum((d.drawn * d.mg_per_ml for _, d, _ in draws), ZERO)
            problems.append(
                f"The chart says {_mg_text(charted)} was given but only {_mg_text(drawn_mg)} "
                "was drawn from the ledger for this session."
            )
    else:
        for mismatch in reconcile_session(
            {str(session.pk): charted},
            [d for _, d, _ in draws],
            tolerance_mg=MG_TOLERANCE,
        ):
            problems.append(
                f"The chart says {_mg_text(charted)} was given; the ledger records "
                f"{_mg_text(mismatch.ledger_mg)} administered. Record the administration again "
                "or correct it."
            )
    for row, draw, ledger in draws:
        administered = draw.administered + extra_ml.get(row.pk, ZERO)
        open_ml = draw.drawn - administered - draw.wasted - draw.broken - draw.lost
        if open_ml != ZERO:
            problems.append(
                f"Draw {entry_ref(row.seq)} from container {ledger.container.pk}: drawn "
                f"{ml_text(draw.drawn)}, administered {ml_text(administered)}, wasted "
                f"{ml_text(draw.wasted)}; "
                + (
                    f"{ml_text(open_ml)} is not accounted for (record its waste)."
                    if open_ml > ZERO
                    else f"{ml_text(-open_ml)} more is accounted for than was drawn."
                )
            )
    return problems


# --- access ----------------------------------------------------------------------------------


def container_get_for_user(user: Any, container_id: int | str, *, permission: str) -> Container:
    """The container, if the user may use the ledger that way; 404 for an unknown id."""
    require(user, permission)
    try:
        pk = int(container_id)
    except (TypeError, ValueError):
        raise Container.DoesNotExist from None
    return Container.objects.select_related("receipt", "location").get(pk=pk)


def entry_get_for_user(
    user: Any, entry_id: int | str, *, permission: str, kind: str | None = None
) -> LedgerEntry:
    require(user, permission)
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        raise LedgerEntry.DoesNotExist from None
    rows = LedgerEntry.objects.select_related("container", "container__location", "session")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows.get(pk=pk)


def ledger_view_require(user: Any) -> None:
    if not user_can(user, "ledger.view"):
        raise PermissionDenied("ledger.view")


# --- pages -----------------------------------------------------------------------------------


def container_status(current: ContainerState) -> str:
    """How a container shows on the ledger's pages: quarantined, empty, sealed (nothing taken
    out: the service's own test for an unopened container) or open."""
    if current.quarantined:
        return "quarantined"
    if current.in_container_ml <= ZERO:
        return "empty"
    if current.in_container_ml == current.container.nominal_ml:
        return "sealed"
    return "open"


@dataclass(frozen=True)
class ContainerRow:
    container: Container
    current: ContainerState
    status: str
    expired: bool


@dataclass
class StorageStock:
    """A safe or cabinet with the containers in it that still hold something."""

    storage: StorageLocation
    containers: list[ContainerRow] = field(default_factory=list)
    ml: Decimal = ZERO
    mg: Decimal = ZERO


@dataclass
class LocationStock:
    location: RegisteredLocation
    storages: list[StorageStock]
    status_counts: dict[str, int]
    open_draws_ml: Decimal
    empty: list[ContainerRow]
    """The most recently received empty containers (their history stays on their page)."""


EMPTY_SHOWN = 20


def ledger_stock_for_user(user: Any, *, today: date) -> list[LocationStock]:
    """Every registered location: its storage locations with the containers in each and their
    balances, replayed from the entries; in a fixed number of queries."""
    require(user, "ledger.view")
    locations = list(RegisteredLocation.objects.order_by("name", "pk"))
    storages = {s.pk: s for s in StorageLocation.objects.order_by("location", "name", "pk")}
    containers = list(Container.objects.select_related("receipt").order_by("pk"))
    rows_by_container: dict[int, list[LedgerEntry]] = {c.pk: [] for c in containers}
    for row in LedgerEntry.objects.order_by("seq"):
        rows_by_container[row.container_id].append(row)
    result: dict[int, LocationStock] = {}
    shelves: dict[int, StorageStock] = {}
    for location in locations:
        own = [s for s in storages.values() if s.location_id == location.pk]
        for storage in own:
            shelves[storage.pk] = StorageStock(storage)
        result[location.pk] = LocationStock(
            location=location,
            storages=[shelves[s.pk] for s in own],
            status_counts={"sealed": 0, "open": 0, "quarantined": 0, "empty": 0},
            open_draws_ml=ZERO,
            empty=[],
        )
    for container in containers:
        rows = rows_by_container[container.pk]
        if not rows:
            continue
        current = container_ledger(container, rows).current
        status = container_status(current)
        line = ContainerRow(container, current, status, current.is_expired(today))
        stock = result[container.location_id]
        stock.status_counts[status] += 1
        stock.open_draws_ml += current.open_draws_ml
        if status == "empty":
            stock.empty.append(line)
            continue
        shelf = shelves.get(int(current.location)) if current.location.isdigit() else None
        if shelf is not None:
            shelf.containers.append(line)
            shelf.ml += current.balance.ml
            shelf.mg += current.balance.mg
    for stock in result.values():
        stock.empty = stock.empty[::-1][:EMPTY_SHOWN]
    return list(result.values())


@dataclass(frozen=True)
class HistoryLine:
    """One entry of a container's history, with the container's figures after it."""

    entry: LedgerEntry
    ref: str
    balance_ml: Decimal
    balance_mg: Decimal
    open_draws_ml: Decimal


@dataclass(frozen=True)
class ContainerHistory:
    ledger: ContainerLedger
    lines: list[HistoryLine]
    open_draws: list[tuple[LedgerEntry, DrawState]]
    """The draws whose syringe still holds something (to waste or administer)."""


def container_history(container: Container) -> ContainerHistory:
    """The container's entries in ledger order, each with the running balance after it."""
    rows = list(
        LedgerEntry.objects.filter(container=container)
        .select_related("actor", "witness", "second_witness", "session__chair", "draw")
        .order_by("seq")
    )
    seq_by_pk = {row.pk: row.seq for row in rows}
    state = LedgerState()
    lines = []
    cid = str(container.pk)
    for row in rows:
        state = apply(state, entry_to_pure(row, container, seq_by_pk), today=None)
        current = state.containers[cid]
        lines.append(
            HistoryLine(
                entry=row,
                ref=entry_ref(row.seq),
                balance_ml=current.balance.ml,
                balance_mg=current.balance.mg,
                open_draws_ml=current.open_draws_ml,
            )
        )
    ledger = ContainerLedger(container, rows, state, seq_by_pk)
    open_draws = [
        (row, ledger.draw_state(row))
        for row in rows
        if row.kind == EntryKind.DRAW and ledger.draw_state(row).open_ml > ZERO
    ]
    return ContainerHistory(ledger, lines, open_draws)


DRAWABLE_STATUSES = (
    SessionStatus.SCHEDULED,
    SessionStatus.CHECKED_IN,
    SessionStatus.INFUSING,
    SessionStatus.RECOVERY,
    SessionStatus.DISCHARGED,
)
IN_THE_CHAIR = (SessionStatus.CHECKED_IN, SessionStatus.INFUSING, SessionStatus.RECOVERY)


def draw_sessions_for_user(user: Any, *, today: date) -> list[Session]:
    """The sessions a nurse may draw for: today's that are not yet signed or cancelled, and any
    still in the chair from an earlier day. The read (patients' names) is audited."""
    require(user, "ledger.draw")
    start = datetime.combine(today, time.min, tzinfo=timezone.get_current_timezone())
    sessions = list(
        Session.objects.filter(
            Q(start__gte=start, start__lt=start + timedelta(days=1)) | Q(status__in=IN_THE_CHAIR),
            status__in=DRAWABLE_STATUSES,
        )
        .select_related("course__patient", "chair")
        .order_by("start", "chair__name")
    )
    if sessions:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Session", str(s.pk), s.course.patient_id) for s in sessions],
            )
    return sessions


def investigations_open_for_user(user: Any) -> list[Investigation]:
    require(user, "ledger.manage")
    return list(
        Investigation.objects.filter(status=InvestigationStatus.OPEN)
        .select_related("count_entry__container")
        .order_by("opened_at", "pk")
    )


def investigation_get_for_user(user: Any, investigation_id: int) -> Investigation:
    require(user, "ledger.manage")
    return Investigation.objects.select_related("count_entry__container").get(pk=investigation_id)


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


def ledger_verify() -> list[LedgerProblem]:
    """Check the chain (every entry's hash, predecessor and place) and every container's
    balance (each entry replayed with the pure `apply`, and the invariant after the last).
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
