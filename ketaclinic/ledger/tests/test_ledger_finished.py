"""Finished containers (`ContainerFinished`): kept by the append path, checked by `ledger
verify`, and the stock pages' result with them the same as replaying every container."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import services
from ketaclinic.ledger.models import (
    Container,
    ContainerFinished,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.selectors import (
    ContainerRow,
    LocationStock,
    StorageStock,
    chain,
    container_ledger,
    container_status,
    entry_ref,
    ledger_stock_for_user,
    ledger_verify,
    pages,
)
from ketaclinic.ledger.tests.conftest import location_make, receive, witness
from ketaclinic.testing import Clinic

SECOND_DEA = "BJ6125341"  # (6+2+3) + 2*(1+5+4) = 31 -> 1 (ketaclinic/ledger/tests/test_dea.py)


def full_replay_stock(today: date) -> list[LocationStock]:
    """The reference: the stock as `ledger_stock_for_user` computed it before the finished
    markers, replaying every entry of every container."""
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
            open_draws_ml=Decimal(0),
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
        stock.empty = stock.empty[::-1][: pages.EMPTY_SHOWN]
    return list(result.values())


def _line(line: ContainerRow) -> tuple[Any, ...]:
    return (line.container.pk, line.container.receipt_id, line.current, line.status, line.expired)


def _plain(stock: Sequence[LocationStock]) -> list[tuple[Any, ...]]:
    """Everything the pages read from the stock, as comparable values (the pure states
    compare by value)."""
    return [
        (
            loc.location.pk,
            [(s.storage.pk, [_line(c) for c in s.containers], s.ml, s.mg) for s in loc.storages],
            loc.status_counts,
            loc.open_draws_ml,
            [_line(c) for c in loc.empty],
        )
        for loc in stock
    ]


def _draw(clinic: Clinic, vial: Container, session: Session, ml: str) -> LedgerEntry:
    return services.ledger_draw(
        acting_user=clinic.users["ben"], container=vial, session=session, ml=Decimal(ml)
    )


def _waste(clinic: Clinic, draw: LedgerEntry, ml: str) -> LedgerEntry:
    return services.ledger_waste(
        acting_user=clinic.users["ben"],
        draw=draw,
        ml=Decimal(ml),
        method="sink, witnessed",
        witness=witness(clinic, "ada"),
    )


def _correct(clinic: Clinic, entry: LedgerEntry, ml: str) -> LedgerEntry:
    return services.ledger_correct(
        acting_user=clinic.users["dana"], entry=entry, ml=Decimal(ml), reason="miscounted"
    )


def _finish(clinic: Clinic, vial: Container, session: Session, draws: int = 1) -> LedgerEntry:
    """Draw the vial (2 mL) out in `draws` draws and waste each draw whole."""
    each = Decimal(2) / draws
    last = None
    for _ in range(draws):
        last = _waste(clinic, _draw(clinic, vial, session, str(each)), str(each))
    assert last is not None
    return last


@pytest.fixture
def ledger(clinic: Clinic, session: Session) -> dict[str, Container]:
    """Two locations with a container in every state the stock pages tell apart."""
    main = location_make(clinic)
    second = location_make(clinic, name="Second clinic", dea_number=SECOND_DEA)
    (
        sealed,
        opened,
        quarantined,
        quarantined_empty,
        open_draw,
        finished,
        revived,
        refinished,
        moved,
    ) = receive(clinic, main, containers=9, volume="2")
    other_sealed, *other_finished = receive(clinic, second, containers=4, volume="2", lot="B-1")
    other_open_draw = receive(clinic, second, volume="2", lot="B-2")[0]
    manager = clinic.users["dana"]

    _waste(clinic, _draw(clinic, opened, session, "0.5"), "0.5")
    services.ledger_quarantine(acting_user=manager, container=quarantined, reason="cracked cap")
    _finish(clinic, quarantined_empty, session)
    services.ledger_quarantine(acting_user=manager, container=quarantined_empty, reason="audit")
    _draw(clinic, open_draw, session, "2")
    _finish(clinic, finished, session, draws=4)
    # Revived: the waste was 0.5 mL too much, and so was the draw: 0.5 mL back in the vial.
    draw = _draw(clinic, revived, session, "2")
    waste = _waste(clinic, draw, "2")
    _correct(clinic, waste, "-0.5")
    _correct(clinic, draw, "-0.5")
    # Finished, revived (a draw left open by a correction) and finished again.
    draw = _draw(clinic, refinished, session, "2")
    _correct(clinic, _waste(clinic, draw, "2"), "-0.5")
    _waste(clinic, draw, "0.5")
    cabinet = services.storage_location_create(
        acting_user=manager, location=main, name="Cabinet", kind="cabinet"
    )
    services.ledger_transfer(acting_user=manager, container=moved, to_storage=cabinet)
    for vial in other_finished:
        _finish(clinic, vial, session, draws=2)
    _draw(clinic, other_open_draw, session, "2")
    _draw(clinic, other_sealed, session, "0.5")  # no longer sealed: open
    return {
        "sealed": sealed,
        "open": opened,
        "quarantined": quarantined,
        "quarantined_empty": quarantined_empty,
        "open_draw": open_draw,
        "finished": finished,
        "revived": revived,
        "refinished": refinished,
        "moved": moved,
        "other_open_draw": other_open_draw,
        **{f"other_finished_{n}": vial for n, vial in enumerate(other_finished)},
    }


def test_finished_markers_follow_the_replay(ledger: dict[str, Container]) -> None:
    marked = set(ContainerFinished.objects.values_list("container_id", flat=True))
    finished = {
        ledger[name].pk
        for name in ledger
        if name in ("finished", "refinished") or name.startswith("other_finished")
    }
    assert marked == finished
    for container in Container.objects.all():  # every one as its own replay says
        assert (container.pk in marked) == container_ledger(container).current.finished
    # The marker names the entry that (last) finished the container.
    refinished = ContainerFinished.objects.get(container=ledger["refinished"])
    last = LedgerEntry.objects.filter(container=ledger["refinished"]).order_by("-seq").first()
    assert last is not None and refinished.seq == last.seq
    assert ledger_verify() == []


def test_a_correction_removes_the_marker_and_finishing_again_writes_it(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw = _draw(clinic, vial, session, "10")
    waste = _waste(clinic, draw, "10")
    assert ContainerFinished.objects.get(container=vial).seq == waste.seq
    _correct(clinic, waste, "-1")  # 1 mL of the draw is unaccounted for again
    assert not ContainerFinished.objects.filter(container=vial).exists()
    again = _waste(clinic, draw, "1")
    assert ContainerFinished.objects.get(container=vial).seq == again.seq
    assert ledger_verify() == []


@pytest.mark.parametrize("shown", [pages.EMPTY_SHOWN, 2, 1])
def test_the_stock_is_the_full_replays(
    clinic: Clinic, ledger: dict[str, Container], monkeypatch: pytest.MonkeyPatch, shown: int
) -> None:
    monkeypatch.setattr(pages, "EMPTY_SHOWN", shown)
    for today in (timezone.localdate(), date(2999, 1, 1)):  # and with every vial expired
        expected = _plain(full_replay_stock(today))
        assert _plain(ledger_stock_for_user(clinic.users["dana"], today=today)) == expected
    counts = {loc[0]: loc[2] for loc in expected}
    main = ledger["sealed"].location_id
    assert counts[main] == {"sealed": 2, "open": 2, "quarantined": 2, "empty": 3}
    (main_stock,) = [loc for loc in expected if loc[0] == main]
    shelves = {storage: [line[0] for line in lines] for storage, lines, *_ in main_stock[1]}
    transfer = ledger["moved"].entries.get(kind="transfer")
    assert ledger["moved"].pk in shelves[transfer.storage_id]
    assert counts[ledger["other_open_draw"].location_id] == {
        "sealed": 0,
        "open": 1,
        "quarantined": 0,
        "empty": 4,
    }


def test_without_the_empties_list_the_stock_is_the_full_replays_but_that_list(
    clinic: Clinic, ledger: dict[str, Container]
) -> None:
    """The administrator's day shows no list of empty containers: none finished is replayed,
    every other figure is the full replay's."""
    today = timezone.localdate()
    got = _plain(ledger_stock_for_user(clinic.users["dana"], today=today, empties=False))
    expected = _plain(full_replay_stock(today))
    assert [loc[:4] for loc in got] == [loc[:4] for loc in expected]
    finished = set(ContainerFinished.objects.values_list("container_id", flat=True))
    for loc_got, loc_expected in zip(got, expected, strict=True):
        assert loc_got[4] == [line for line in loc_expected[4] if line[0] not in finished]
    assert set(pages._replayed(empties=False)) == set(
        Container.objects.exclude(pk__in=finished).values_list("pk", flat=True)
    )


def test_the_stock_reads_only_what_it_replays(
    clinic: Clinic, ledger: dict[str, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finished containers beyond the latest shown are counted, never read entry by entry."""
    monkeypatch.setattr(pages, "EMPTY_SHOWN", 1)
    read = set(pages._replayed())
    finished = set(ContainerFinished.objects.values_list("container_id", flat=True))
    latest = {  # the latest finished container of each location
        max(c for c in finished if Container.objects.get(pk=c).location_id == loc)
        for loc in RegisteredLocation.objects.values_list("pk", flat=True)
    }
    assert read & finished == latest
    assert read - finished == set(
        Container.objects.exclude(pk__in=finished).values_list("pk", flat=True)
    )


def test_a_container_written_to_is_replayed_again_and_the_others_are_not(
    clinic: Clinic,
    ledger: dict[str, Container],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replayed states are kept by each container's last entry: showing the stock again
    replays nothing, and after a new entry only that container, with the new figures."""
    user = clinic.users["dana"]
    today = timezone.localdate()
    ledger_stock_for_user(user, today=today)
    replays: list[int] = []

    def counted(container: Container, rows: Any = None) -> Any:
        replays.append(container.pk)
        return container_ledger(container, rows)

    monkeypatch.setattr(chain, "container_ledger", counted)
    assert _plain(ledger_stock_for_user(user, today=today)) == _plain(full_replay_stock(today))
    assert replays == []
    opened = next(
        c
        for c in Container.objects.filter(finished__isnull=True).order_by("pk")
        if container_status(container_ledger(c).current) == "sealed"
    )
    _draw(clinic, opened, session, "1")
    assert _plain(ledger_stock_for_user(user, today=today)) == _plain(full_replay_stock(today))
    assert replays == [opened.pk]


def test_the_stock_reads_in_the_same_number_of_queries_for_a_longer_history(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    user = clinic.users["dana"]
    today = timezone.localdate()
    receive(clinic, location, volume="2")
    _finish(clinic, receive(clinic, location, volume="2")[0], session)
    ledger_stock_for_user(user, today=today)
    with CaptureQueriesContext(connection) as short:
        before = ledger_stock_for_user(user, today=today)
    with CaptureQueriesContext(connection) as short_counted:
        ledger_stock_for_user(user, today=today, empties=False)
    for vial in receive(clinic, location, containers=4, volume="2", lot="LOT-LONG"):
        _finish(clinic, vial, session, draws=8)  # long histories
    with CaptureQueriesContext(connection) as changed:
        after = ledger_stock_for_user(user, today=today)
    # containers written to since the last view: their entries read (one statement) and replayed
    assert len(changed) == len(short) + 1
    with CaptureQueriesContext(connection) as long:
        assert _plain(ledger_stock_for_user(user, today=today)) == _plain(after)
    with CaptureQueriesContext(connection) as long_counted:
        ledger_stock_for_user(user, today=today, empties=False)
    assert len(long) == len(short)
    assert len(long_counted) == len(short_counted) == len(short) - 1
    assert before[0].status_counts["empty"] == 1 and after[0].status_counts["empty"] == 5
    assert _plain(after) == _plain(full_replay_stock(today))


def test_the_migration_fills_the_markers_by_replaying(ledger: dict[str, Container]) -> None:
    kept = set(ContainerFinished.objects.values_list("container_id", "seq"))
    ContainerFinished.objects.all().delete()
    migration = importlib.import_module("ketaclinic.ledger.migrations.0002_containerfinished")
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert set(ContainerFinished.objects.values_list("container_id", "seq")) == kept


def test_verify_names_a_missing_marker(ledger: dict[str, Container]) -> None:
    finished = ledger["finished"]
    seq = ContainerFinished.objects.get(container=finished).seq
    ContainerFinished.objects.filter(container=finished).delete()
    messages = [str(p) for p in ledger_verify()]
    assert messages == [
        f"container {finished.pk} is finished at {entry_ref(seq)} but has no finished marker"
    ]


def test_verify_names_a_marker_on_a_container_that_is_not_finished(
    ledger: dict[str, Container],
) -> None:
    for name in ("sealed", "quarantined_empty", "open_draw"):
        ContainerFinished.objects.create(container=ledger[name], seq=1)
    messages = [str(p) for p in ledger_verify()]
    assert len(messages) == 3
    for name in ("sealed", "quarantined_empty", "open_draw"):
        assert (
            f"container {ledger[name].pk} is marked finished but its entries say it is not"
            in "\n".join(messages)
        )


def test_verify_names_a_marker_with_the_wrong_entry(ledger: dict[str, Container]) -> None:
    finished = ledger["finished"]
    right = ContainerFinished.objects.get(container=finished).seq
    ContainerFinished.objects.filter(container=finished).update(seq=right - 1)
    assert [str(p) for p in ledger_verify()] == [
        f"container {finished.pk}'s finished marker names {entry_ref(right - 1)}, but its "
        f"entries finish it at {entry_ref(right)}"
    ]
