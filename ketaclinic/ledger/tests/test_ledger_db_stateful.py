"""Random sequences of receipts, draws, administrations, wastes, transfers, corrections,
losses and counts through the services (the database, row locks and hash chain included).

After every step each container replays to a state where the invariant holds (received =
administered + wasted + destroyed + returned + broken + lost + on hand) and no balance is
below zero; every balance agrees with a small independent model; a refused step stores
nothing. At the end, `ledger verify` finds the chain and every balance intact. A modest
number of examples: the pure state machine (test_ledger_stateful.py) explores far more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import services
from ketaclinic.ledger.arithmetic import invariant_problems
from ketaclinic.ledger.entries import LedgerRefused
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.selectors import container_ledger, ledger_verify
from ketaclinic.ledger.tests.conftest import chart_dose, location_make, receive, session_make
from ketaclinic.testing import Clinic

ZERO = Decimal("0")
volumes = st.integers(min_value=1, max_value=12).map(lambda n: Decimal(n) / 2)  # 0.5 .. 6 mL


@dataclass
class Vial:
    container: Container
    in_vial: Decimal
    storage: int
    draws: dict[int, Decimal] = field(default_factory=dict)  # draw id -> open mL


class Rollback(Exception):
    pass


class LedgerMachine(RuleBasedStateMachine):
    clinic: Clinic
    location: RegisteredLocation
    session: Session
    storages: list[StorageLocation]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.vials: list[Vial] = []
        self.refused = 0
        # Which session each draw was made for: the chart gives only its own session's draws
        # (a correction can reopen a draw of a session already given).
        self.draw_session: dict[int, Any] = {}

    def teardown(self) -> None:
        try:
            assert ledger_verify() == []
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _attempt(self, should_succeed: bool, action: Any) -> Any:
        before = LedgerEntry.objects.count()
        try:
            result = action()
        except LedgerRefused:
            assert not should_succeed, "the model expected this step to be accepted"
            assert LedgerEntry.objects.count() == before
            self.refused += 1
            return None
        assert should_succeed, "the model expected this step to be refused"
        return result

    @property
    def users(self) -> dict[str, Any]:
        return self.clinic.users

    @rule(volume=volumes, concentration=st.sampled_from(["10", "50", "100"]))
    def receive(self, volume: Decimal, concentration: str) -> None:
        (vial,) = receive(
            self.clinic, self.location, volume=str(volume), concentration=concentration
        )
        self.vials.append(Vial(vial, volume, self.storages[0].pk))

    @rule(data=st.data(), ml=volumes)
    def draw(self, data: st.DataObject, ml: Decimal) -> None:
        if not self.vials:
            return
        vial = data.draw(st.sampled_from(self.vials))
        row = self._attempt(
            ml <= vial.in_vial,
            lambda: services.ledger_draw(
                acting_user=self.users["ben"], container=vial.container, session=self.session, ml=ml
            ),
        )
        if row is not None:
            vial.in_vial -= ml
            vial.draws[row.pk] = ml
            self.draw_session[row.pk] = self.session.pk

    def _open_draw(self, data: st.DataObject) -> tuple[Vial, int] | None:
        choices = [(v, d) for v in self.vials for d in v.draws]
        if not choices:
            return None
        return data.draw(st.sampled_from(choices))

    @rule(data=st.data(), ml=volumes)
    def waste(self, data: st.DataObject, ml: Decimal) -> None:
        picked = self._open_draw(data)
        if picked is None:
            return
        vial, draw_id = picked
        draw = LedgerEntry.objects.get(pk=draw_id)
        row = self._attempt(
            ml <= vial.draws[draw_id],
            lambda: services.ledger_waste(
                acting_user=self.users["ben"], draw=draw, ml=ml, method="sink", witness=None
            ),
        )
        if row is not None:
            vial.draws[draw_id] -= ml

    @rule(data=st.data())
    def administer_whatever_is_open(self, data: st.DataObject) -> None:
        """The chart gives the whole of one session's open draws."""
        open_mg = sum(
            (
                ml * v.container.mg_per_ml
                for v in self.vials
                for d, ml in v.draws.items()
                if ml > ZERO and self.draw_session[d] == self.session.pk
            ),
            ZERO,
        )
        if open_mg == ZERO:
            return
        chart_dose(self.session, str(open_mg))
        services.ledger_administration_record(acting_user=self.users["ben"], session=self.session)
        for vial in self.vials:
            for d in vial.draws:
                if self.draw_session[d] == self.session.pk:
                    vial.draws[d] = ZERO
        # a new session for the next draws, so that the charted dose is per session
        self.session = session_make(self.clinic)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        if not self.vials:
            return
        vial = data.draw(st.sampled_from(self.vials))
        target = data.draw(st.sampled_from(self.storages))
        row = self._attempt(
            target.pk != vial.storage,
            lambda: services.ledger_transfer(
                acting_user=self.users["dana"], container=vial.container, to_storage=target
            ),
        )
        if row is not None:
            vial.storage = target.pk

    @rule(data=st.data(), ml=volumes)
    def loss(self, data: st.DataObject, ml: Decimal) -> None:
        if not self.vials:
            return
        vial = data.draw(st.sampled_from(self.vials))
        row = self._attempt(
            ml <= vial.in_vial,
            lambda: services.ledger_loss(
                acting_user=self.users["dana"],
                container=vial.container,
                ml=ml,
                kind="significant_loss",
                discovered_on=self.session.start.date(),
                description="found short",
            ),
        )
        if row is not None:
            vial.in_vial -= ml

    @rule(data=st.data(), ml=volumes, up=st.booleans())
    def correct_a_draw(self, data: st.DataObject, ml: Decimal, up: bool) -> None:
        picked = self._open_draw(data)
        if picked is None:
            return
        vial, draw_id = picked
        draw = LedgerEntry.objects.get(pk=draw_id)
        signed = ml if up else -ml
        # Drawing more empties the vial; drawing less needs the draw's open volume.
        allowed = ml <= vial.in_vial if up else ml <= vial.draws[draw_id]
        row = self._attempt(
            allowed,
            lambda: services.ledger_correct(
                acting_user=self.users["dana"], entry=draw, ml=signed, reason="recounted"
            ),
        )
        if row is not None:
            vial.in_vial -= signed
            vial.draws[draw_id] += signed

    @rule(data=st.data(), short=st.integers(min_value=0, max_value=2))
    def count(self, data: st.DataObject, short: int) -> None:
        if not self.vials:
            return
        vial = data.draw(st.sampled_from(self.vials))
        counted = max(vial.in_vial - Decimal(short) / 2, ZERO)
        _, investigations = services.ledger_count(
            acting_user=self.users["dana"],
            location=self.location,
            kind="shift",
            lines=[services.CountLine(vial.container, counted)],
        )
        assert len(investigations) == (0 if counted == vial.in_vial else 1)

    @invariant()
    def every_container_keeps_the_invariant_and_agrees_with_the_model(self) -> None:
        for vial in self.vials:
            ledger = container_ledger(vial.container)
            assert invariant_problems(ledger.state) == []
            current = ledger.current
            assert current.in_container_ml == vial.in_vial >= ZERO
            assert current.open_draws_ml == sum(vial.draws.values(), ZERO)
            assert current.location == str(vial.storage)
            kinds = {row.kind for row in ledger.rows}
            assert EntryKind.RECEIPT in kinds


@pytest.mark.drill
@pytest.mark.django_db
def test_random_ledger_sequences_through_the_services_keep_the_invariant(clinic: Clinic) -> None:
    location = location_make(clinic, waste_witness_required=False)
    storages = [
        StorageLocation.objects.get(location=location),
        StorageLocation.objects.create(location=location, name="Cabinet", kind="cabinet"),
    ]
    session = session_make(clinic)

    class Machine(LedgerMachine):
        pass

    Machine.clinic = clinic
    Machine.location = location
    Machine.session = session
    Machine.storages = storages
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=12,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
