"""Random sequences of ledger entries against a small independent model.

After every step: the ledger invariant holds, no balance is below zero, the ledger agrees with
the model, and an entry was accepted exactly when the model says it should be. A refused entry
leaves the state unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ketaclinic.ledger.arithmetic import LedgerState, apply, invariant_problems
from ketaclinic.ledger.entries import (
    Administration,
    Breakage,
    Container,
    Correction,
    Count,
    Destruction,
    Draw,
    Entry,
    LedgerRefused,
    Loss,
    Quarantine,
    QuarantineRelease,
    Receipt,
    Return,
    Transfer,
    Waste,
)

TODAY = date(2025, 3, 10)
ZERO = Decimal("0")
LOCATIONS = ("safe A", "safe B", "crash cart")

volumes = st.integers(min_value=1, max_value=1200).map(lambda n: Decimal(n) / 100)
signed_volumes = (
    st.integers(min_value=-600, max_value=600).filter(bool).map(lambda n: Decimal(n) / 100)
)


@dataclass
class ModelContainer:
    in_vial: Decimal
    location: str
    quarantined: bool
    expired: bool


@dataclass
class Quantity:
    """What the model remembers of an accepted entry that moved volume."""

    kind: str
    container_id: str
    draw_id: str | None
    net: Decimal


def _snapshot(state: LedgerState) -> tuple[object, ...]:
    return (
        dict(state.containers),
        dict(state.draws),
        dict(state.entries),
        dict(state.corrected_ml),
    )


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = LedgerState()
        self.containers: dict[str, ModelContainer] = {}
        self.draw_open: dict[str, Decimal] = {}
        self.draw_container: dict[str, str] = {}
        self.quantities: dict[str, Quantity] = {}
        self.other_entries: list[str] = []  # transfers, counts, quarantines, corrections
        self.next_id = 0

    # --- helpers --------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def submit(self, entry: Entry, expect_accepted: bool) -> bool:
        before = _snapshot(self.state)
        try:
            new = apply(self.state, entry, today=TODAY)
        except LedgerRefused as refused:
            assert refused.reason
            assert _snapshot(self.state) == before, "a refused entry changed the state"
            assert not expect_accepted, f"refused unexpectedly: {refused.reason}"
            return False
        assert _snapshot(self.state) == before, "apply changed the state it was given"
        assert expect_accepted, f"accepted but the model refuses: {entry}"
        self.state = new
        return True

    def effect_ok(self, kind: str, cid: str, did: str | None, delta: Decimal) -> bool:
        """Would this signed movement keep the vial and the draw at or above zero?"""
        in_vial = self.containers[cid].in_vial
        open_ml = self.draw_open.get(did, ZERO) if did is not None else ZERO
        if kind == "receipt":
            in_vial += delta
        elif kind == "draw":
            in_vial -= delta
            open_ml += delta
        elif did is not None:  # administration, waste, breakage or loss from a syringe
            open_ml -= delta
        else:  # return, destruction, breakage or loss from the vial
            in_vial -= delta
        return in_vial >= ZERO and open_ml >= ZERO

    def effect_apply(self, kind: str, cid: str, did: str | None, delta: Decimal) -> None:
        if kind == "receipt":
            self.containers[cid].in_vial += delta
        elif kind == "draw":
            assert did is not None
            self.containers[cid].in_vial -= delta
            self.draw_open[did] += delta
        elif did is not None:
            self.draw_open[did] -= delta
        else:
            self.containers[cid].in_vial -= delta

    def movement(
        self, kind: str, entry: Entry, cid: str, did: str | None, ml: Decimal, ok: bool
    ) -> None:
        ok = ok and self.effect_ok(kind, cid, did, ml)
        if self.submit(entry, ok):
            self.effect_apply(kind, cid, did, ml)
            self.quantities[entry.entry_id] = Quantity(kind, cid, did, ml)

    # --- rules ----------------------------------------------------------------------------

    @rule(ml=volumes, expired=st.booleans(), location=st.sampled_from(LOCATIONS))
    def receive(self, ml: Decimal, expired: bool, location: str) -> None:
        cid = self.new_id("V")
        container = Container(
            container_id=cid,
            mg_per_ml=Decimal("50"),
            nominal_ml=Decimal("10"),
            expires_on=date(2025, 3, 9) if expired else date(2026, 1, 31),
        )
        entry = Receipt(self.new_id("r"), container, ml, location)
        if self.submit(entry, True):
            self.containers[cid] = ModelContainer(ZERO, location, False, expired)
            self.effect_apply("receipt", cid, None, ml)
            self.quantities[entry.entry_id] = Quantity("receipt", cid, None, ml)

    @precondition(lambda self: self.containers)
    @rule(data=st.data(), ml=volumes)
    def draw(self, data: st.DataObject, ml: Decimal) -> None:
        cid = data.draw(st.sampled_from(sorted(self.containers)))
        did = self.new_id("d")
        c = self.containers[cid]
        ok = not c.quarantined and not c.expired
        self.draw_open[did] = ZERO  # the model needs the draw to exist to check the effect
        self.draw_container[did] = cid
        entry = Draw(did, cid, self.new_id("s"), ml)
        self.movement("draw", entry, cid, did, ml, ok)
        if did not in self.quantities:
            del self.draw_open[did], self.draw_container[did]

    @precondition(lambda self: self.draw_open)
    @rule(data=st.data(), ml=volumes, waste=st.booleans())
    def administer_or_waste(self, data: st.DataObject, ml: Decimal, waste: bool) -> None:
        did = data.draw(st.sampled_from(sorted(self.draw_open)))
        cid = self.draw_container[did]
        eid = self.new_id("w" if waste else "a")
        entry: Entry = Waste(eid, did, ml) if waste else Administration(eid, did, ml)
        self.movement("waste" if waste else "administration", entry, cid, did, ml, True)

    @precondition(lambda self: self.containers)
    @rule(
        data=st.data(),
        ml=volumes,
        kind=st.sampled_from(["return", "destruction", "breakage", "loss"]),
        from_syringe=st.booleans(),
    )
    def dispose(self, data: st.DataObject, ml: Decimal, kind: str, from_syringe: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.containers)))
        did: str | None = None
        own_draws = sorted(d for d, c in self.draw_container.items() if c == cid)
        if kind in ("breakage", "loss") and from_syringe and own_draws:
            did = data.draw(st.sampled_from(own_draws))
        eid = self.new_id("x")
        entry: Entry
        if kind == "return":
            entry = Return(eid, cid, ml)
        elif kind == "destruction":
            entry = Destruction(eid, cid, ml)
        elif kind == "breakage":
            entry = Breakage(eid, cid, ml, did)
        else:
            entry = Loss(eid, cid, ml, did)
        self.movement(kind, entry, cid, did, ml, True)

    @precondition(lambda self: self.containers)
    @rule(data=st.data(), to=st.sampled_from(LOCATIONS), honest=st.booleans())
    def transfer(self, data: st.DataObject, to: str, honest: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.containers)))
        c = self.containers[cid]
        source = c.location if honest else "nowhere"
        entry = Transfer(self.new_id("t"), cid, source, to)
        if self.submit(entry, honest and to != c.location):
            c.location = to
            self.other_entries.append(entry.entry_id)

    @precondition(lambda self: self.containers)
    @rule(data=st.data(), counted=volumes, stale=st.booleans())
    def count(self, data: st.DataObject, counted: Decimal, stale: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.containers)))
        expected = self.containers[cid].in_vial + (Decimal("0.01") if stale else ZERO)
        entry = Count(self.new_id("c"), cid, expected, counted)
        if self.submit(entry, not stale):
            self.other_entries.append(entry.entry_id)

    @precondition(lambda self: self.containers)
    @rule(data=st.data(), release=st.booleans())
    def quarantine(self, data: st.DataObject, release: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.containers)))
        c = self.containers[cid]
        eid = self.new_id("q")
        entry: Entry = (
            QuarantineRelease(eid, cid, "seal intact") if release else Quarantine(eid, cid, "seal")
        )
        if self.submit(entry, c.quarantined == release):
            c.quarantined = not release
            self.other_entries.append(eid)

    @precondition(lambda self: self.quantities)
    @rule(data=st.data(), ml=signed_volumes)
    def correct(self, data: st.DataObject, ml: Decimal) -> None:
        target = data.draw(st.sampled_from(sorted(self.quantities)))
        q = self.quantities[target]
        ok = q.net + ml >= ZERO and self.effect_ok(q.kind, q.container_id, q.draw_id, ml)
        entry = Correction(self.new_id("k"), target, ml, "recorded wrongly")
        if self.submit(entry, ok):
            self.effect_apply(q.kind, q.container_id, q.draw_id, ml)
            q.net += ml
            self.other_entries.append(entry.entry_id)

    @precondition(lambda self: self.other_entries)
    @rule(data=st.data())
    def correct_what_moves_nothing(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(self.other_entries))
        self.submit(Correction(self.new_id("k"), target, Decimal("1"), "oops"), False)

    @rule(data=st.data())
    def refer_to_unknown(self, data: st.DataObject) -> None:
        unknown: list[Entry] = [
            Draw(self.new_id("d"), "V-unknown", "s", Decimal("1")),
            Administration(self.new_id("a"), "d-unknown", Decimal("1")),
            Correction(self.new_id("k"), "e-unknown", Decimal("1"), "oops"),
        ]
        self.submit(data.draw(st.sampled_from(unknown)), False)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def ledger_invariant_holds(self) -> None:
        assert invariant_problems(self.state) == []

    @invariant()
    def nothing_below_zero_and_ledger_agrees_with_model(self) -> None:
        assert set(self.state.containers) == set(self.containers)
        for cid, model in self.containers.items():
            current = self.state.containers[cid]
            assert current.in_container_ml >= ZERO
            assert current.open_draws_ml >= ZERO
            assert current.in_container_ml == model.in_vial
            assert current.location == model.location
            assert current.quarantined == model.quarantined
            own_open = sum(
                (o for d, o in self.draw_open.items() if self.draw_container[d] == cid), ZERO
            )
            assert current.on_hand_ml == model.in_vial + own_open
        for did, open_ml in self.draw_open.items():
            assert self.state.draws[did].open_ml == open_ml >= ZERO


LedgerMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
test_ledger_state_machine = pytest.mark.drill(LedgerMachine.TestCase)
