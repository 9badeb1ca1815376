"""Reads for the ledger's pages: stock by location, a container's history, the sessions a draw
can be for, open investigations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.ledger.arithmetic import ContainerState, DrawState, LedgerState, apply
from ketaclinic.ledger.entries import ZERO
from ketaclinic.ledger.models import (
    Container,
    ContainerFinished,
    EntryKind,
    Investigation,
    InvestigationStatus,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.selectors.chain import (
    ContainerLedger,
    containers_replayed,
    entry_ref,
    entry_to_pure,
)


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


# A container's replayed state, by the last entry it was replayed to. Entries are append-only
# and a container's row never changes, so a container whose last entry is the same (by its chain
# hash, which commits to every entry before it) has the same state: the stock pages replay only
# the containers written to since this process last showed them. Bounded by what is replayed
# (the containers on hand and the latest empties), and cleared past ``_STATES_KEPT``.
_STATES: dict[int, tuple[str, ContainerState]] = {}
_STATES_KEPT = 5000


def _replayed(*, empties: bool = True) -> dict[int, tuple[Container, ContainerState]]:
    """Each container the stock page shows, with its current state: every container that is not
    finished (what is on hand, so bounded by the shelves, not by the clinic's history) and,
    with ``empties``, per registered location the latest `EMPTY_SHOWN` finished ones (the
    page's list of empty containers). Only containers with an entry since they were last
    replayed here are read and replayed again."""
    replayed = Q(finished__isnull=True)
    if empties:
        latest_finished = (
            ContainerFinished.objects.annotate(
                place=Window(
                    RowNumber(),
                    partition_by=[F("container__location_id")],
                    order_by=F("container_id").desc(),
                )
            )
            .filter(place__lte=EMPTY_SHOWN)
            .values_list("container_id", flat=True)
        )
        # Read first (a statement more): as a subquery the planner cannot tell that it keeps
        # a few rows, and reads the whole ledger's index to join them.
        replayed |= Q(pk__in=list(latest_finished))
    last_hash = Subquery(
        LedgerEntry.objects.filter(container=OuterRef("pk")).order_by("-seq").values("hash")[:1]
    )
    containers = {
        c.pk: c
        for c in Container.objects.filter(replayed)
        .select_related("receipt", "finished")
        .annotate(last_hash=last_hash)
        if c.last_hash is not None  # received in no entry: not in the ledger
    }
    states: dict[int, ContainerState] = {}
    stale: list[int] = []
    for pk, container in containers.items():
        kept = _STATES.get(pk)  # one read: another thread may clear the dict meanwhile
        if kept is not None and kept[0] == container.last_hash:
            states[pk] = kept[1]
        else:
            stale.append(pk)
    if stale:
        ledgers = containers_replayed(containers, stale)
        if len(_STATES) + len(stale) > _STATES_KEPT:
            _STATES.clear()
        for pk, ledger in ledgers.items():
            states[pk] = ledger.current
            _STATES[pk] = (containers[pk].last_hash, states[pk])
    return {pk: (container, states[pk]) for pk, container in containers.items()}


def ledger_stock_for_user(
    user: Any,
    *,
    today: date,
    locations: Sequence[RegisteredLocation] | None = None,
    empties: bool = True,
) -> list[LocationStock]:
    """Every registered location: its storage locations with the containers in each and their
    balances, replayed from the entries; in a fixed number of queries. ``locations``: every
    registered location, when the caller has read them (ordered by name). ``empties=False``
    for a caller that does not show the list of empty containers: the finished containers are
    then only counted, none replayed (each ``empty`` list holds only the empty containers that
    are not finished, e.g. with a draw still open).

    Finished containers (`ContainerFinished`: empty, nothing drawn still open, not
    quarantined) are counted, not replayed, but for the latest few shown as empty; the result
    is the same as replaying every container (ketaclinic/ledger/tests/test_ledger_finished.py).
    """
    require(user, "ledger.view")
    if locations is None:
        locations = list(RegisteredLocation.objects.order_by("name", "pk"))
    # The finished containers of each location ride along on its storage rows (one query less).
    finished_here = (
        ContainerFinished.objects.filter(container__location_id=OuterRef("location_id"))
        .order_by()
        .values("container__location_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    storages = {
        s.pk: s
        for s in StorageLocation.objects.annotate(finished_here=Subquery(finished_here)).order_by(
            "location", "name", "pk"
        )
    }
    states = _replayed(empties=empties)
    result: dict[int, LocationStock] = {}
    shelves: dict[int, StorageStock] = {}
    for location in locations:
        own = [s for s in storages.values() if s.location_id == location.pk]
        for storage in own:
            shelves[storage.pk] = StorageStock(storage)
        finished = max((int(getattr(s, "finished_here", 0) or 0) for s in own), default=0)
        result[location.pk] = LocationStock(
            location=location,
            storages=[shelves[s.pk] for s in own],
            status_counts={"sealed": 0, "open": 0, "quarantined": 0, "empty": finished},
            open_draws_ml=ZERO,
            empty=[],
        )
    for cid in sorted(states):
        container, current = states[cid]
        status = container_status(current)
        line = ContainerRow(container, current, status, current.is_expired(today))
        stock = result[container.location_id]
        if not hasattr(container, "finished"):  # a finished one is counted by its marker
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
