"""A session's draws for its chart (``session_draw_states``): the same states as a replay of the
containers' whole histories (``session_draws``), each container replayed again only after it
was written to."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.infusions.models import Session
from ketaclinic.infusions.services.draws import session_draws_list
from ketaclinic.ledger import services
from ketaclinic.ledger.models import Container, RegisteredLocation
from ketaclinic.ledger.selectors import chain, container_ledger, session_draw_states, session_draws
from ketaclinic.ledger.selectors import sessions as session_selectors
from ketaclinic.ledger.tests.conftest import receive, session_make, witness
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    session_selectors._DRAWS.clear()


def _draw(clinic: Clinic, vial: Container, session: Session, ml: str) -> Any:
    return services.ledger_draw(
        acting_user=clinic.users["ben"], container=vial, session=session, ml=Decimal(ml)
    )


def _waste(clinic: Clinic, draw: Any, ml: str) -> None:
    services.ledger_waste(
        acting_user=clinic.users["ben"],
        draw=draw,
        ml=Decimal(ml),
        method="sink, witnessed",
        witness=witness(clinic, "ada"),
    )


def _replayed(session: Session) -> list[tuple[Any, ...]]:
    return [
        (row.container_id, row.container.lot, state) for row, state, _ in session_draws(session)
    ]


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    replays: list[int] = []

    def counted(container: Container, rows: Any = None) -> Any:
        replays.append(container.pk)
        return container_ledger(container, rows)

    monkeypatch.setattr(chain, "container_ledger", counted)
    return replays


def test_the_states_are_those_of_a_whole_replay_and_kept_until_a_container_is_written_to(
    clinic: Clinic, location: RegisteredLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = receive(clinic, location, containers=2, volume="5", lot="LOT-D1")
    (other_lot,) = receive(clinic, location, volume="5", lot="LOT-D2")
    ours, theirs = session_make(clinic), session_make(clinic)
    a = _draw(clinic, first, ours, "1.5")
    _draw(clinic, first, theirs, "2")  # another session's draw from the same vial
    b = _draw(clinic, other_lot, ours, "0.8")
    _waste(clinic, a, "0.5")
    assert session_draw_states(ours) == _replayed(ours)
    assert [d.lot for d in session_draw_states(ours)] == ["LOT-D1", "LOT-D2"]
    assert session_draw_states(ours)[0].state.open_ml == Decimal("1.0")

    expected = _replayed(ours)
    replays = _counted(monkeypatch)  # session_draws replays too: compared outside the count
    with CaptureQueriesContext(connection) as kept:
        again = session_draw_states(ours)
    assert replays == []
    assert len(kept) == 1  # the draws with their containers' last entries; nothing replayed
    assert again == expected

    _waste(clinic, b, "0.3")  # a write to one of the two containers
    with CaptureQueriesContext(connection) as changed:
        after = session_draw_states(ours)
    assert replays == [other_lot.pk]
    assert len(changed) == 3  # + the container and its entries
    assert after[1].state.open_ml == Decimal("0.5") and after[0] == again[0]
    assert after == _replayed(ours)

    _draw(clinic, second, theirs, "1")  # a container this session never drew from
    replays.clear()
    kept_again = session_draw_states(ours)
    assert replays == []
    assert kept_again == _replayed(ours)
    assert session_draw_states(theirs) == _replayed(theirs)


def test_the_charts_draw_list_reads_the_kept_states(
    clinic: Clinic, location: RegisteredLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    (vial,) = receive(clinic, location, volume="10", lot="LOT-C1")
    session = session_make(clinic)
    draw = _draw(clinic, vial, session, "2")
    listed = session_draws_list(session)
    assert [(d.lot, d.drawn_ml, d.open_ml, d.mg_per_ml) for d in listed] == [
        ("LOT-C1", Decimal("2"), Decimal("2"), Decimal("50"))
    ]
    replays = _counted(monkeypatch)
    assert session_draws_list(session) == listed and replays == []
    _waste(clinic, draw, "2")
    assert session_draws_list(session)[0].open_ml == Decimal("0")
    assert replays == [vial.pk]


def test_a_session_without_draws_reads_once_and_lists_none(clinic: Clinic) -> None:
    session = session_make(clinic)
    with CaptureQueriesContext(connection) as queries:
        assert session_draw_states(session) == []
    assert len(queries) == 1


def test_the_kept_states_are_bounded(
    clinic: Clinic, location: RegisteredLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_selectors, "_DRAWS_KEPT", 1)
    vials = receive(clinic, location, containers=2, volume="5", lot="LOT-B1")
    session = session_make(clinic)
    for vial in vials:
        _draw(clinic, vial, session, "1")
    assert session_draw_states(session) == _replayed(session)
    assert len(session_selectors._DRAWS) <= 2
    assert session_draw_states(session) == _replayed(session)
