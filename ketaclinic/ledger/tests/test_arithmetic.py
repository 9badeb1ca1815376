from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal as D

import pytest

from ketaclinic.ledger.arithmetic import (
    Balance,
    DrawState,
    LedgerState,
    apply,
    container_balance,
    count_discrepancy,
    draw_is_reconciled,
    draw_open_ml,
    invariant_holds,
    invariant_problems,
    reconcile_session,
    replay,
)
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
    entry_chain,
    entry_payload,
)
from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash

TODAY = date(2025, 3, 10)
VIAL = Container(
    container_id="V1",
    mg_per_ml=D("50"),
    nominal_ml=D("10"),
    expires_on=date(2026, 1, 31),
    ndc="0409-2051-05",
    lot="LOT1",
)
RECEIPT = Receipt(entry_id="r1", container=VIAL, ml=D("10"), location="safe A")


def ledger(*entries: Entry) -> LedgerState:
    state = LedgerState()
    for entry in (RECEIPT, *entries):
        state = apply(state, entry, today=TODAY)
    return state


def test_ten_draws_of_one_ml_from_a_ten_ml_vial_then_the_eleventh_is_refused() -> None:
    state = ledger()
    for n in range(10):
        state = apply(state, Draw(f"d{n}", "V1", f"s{n}", D("1")), today=TODAY)
    assert state.containers["V1"].balance == Balance(ml=D("0"), mg=D("0"))
    assert state.containers["V1"].on_hand_ml == D("10")
    with pytest.raises(
        LedgerRefused, match=r"Cannot draw 1 mL from container 'V1': it holds only 0 mL"
    ):
        apply(state, Draw("d10", "V1", "s10", D("1")), today=TODAY)
    assert invariant_holds(state)


def test_balance_in_mg_uses_the_concentration() -> None:
    state = ledger(Draw("d1", "V1", "s1", D("0.7")))
    assert state.containers["V1"].balance == Balance(ml=D("9.3"), mg=D("465.0"))


def test_a_full_session_reconciles() -> None:
    state = ledger(
        Draw("d1", "V1", "s1", D("1.0")),
        Administration("a1", "d1", D("0.7")),
        Waste("w1", "d1", D("0.3")),
    )
    assert state.draws["d1"].is_reconciled
    assert state.containers["V1"].on_hand_ml == D("9.0")
    assert invariant_holds(state)


LATER = Container(
    container_id="V2", mg_per_ml=D("100"), nominal_ml=D("5"), expires_on=date(2025, 3, 9)
)

# (name, entries applied after the 10 mL receipt and 1 mL draw d1, refused entry, message)
REFUSALS: list[tuple[str, list[Entry], Entry, str]] = [
    ("draw above the balance", [], Draw("d2", "V1", "s2", D("9.5")), "holds only 9 mL"),
    ("draw from unknown container", [], Draw("d2", "NOPE", "s2", D("1")), "has not been received"),
    (
        "draw from expired container",
        [Receipt("r2", LATER, D("5"), "safe A")],
        Draw("d2", "V2", "s2", D("1")),
        "expired on 2025-03-09",
    ),
    (
        "draw from quarantined container",
        [Quarantine("q1", "V1", "cap broken")],
        Draw("d2", "V1", "s2", D("1")),
        "is quarantined",
    ),
    (
        "administered more than drawn",
        [],
        Administration("a1", "d1", D("1.1")),
        "would account for 1.1 mL",
    ),
    (
        "administered plus wasted more than drawn",
        [Administration("a1", "d1", D("0.8"))],
        Waste("w1", "d1", D("0.3")),
        "only 1 mL was drawn",
    ),
    ("administration against unknown draw", [], Administration("a1", "dX", D("1")), "no draw"),
    ("return more than in container", [], Return("x1", "V1", D("9.01")), "with -0.01 mL"),
    ("destruction more than in container", [], Destruction("x1", "V1", D("10")), "with -1 mL"),
    ("breakage more than in container", [], Breakage("x1", "V1", D("9.5")), "with -0.5 mL"),
    ("loss more than in container", [], Loss("x1", "V1", D("9.5")), "with -0.5 mL"),
    ("loss from a syringe more than open", [], Loss("x1", "V1", D("2"), "d1"), "only 1 mL"),
    (
        "breakage from a draw of another container",
        [Receipt("r2", LATER, D("5"), "safe A")],
        Breakage("x1", "V2", D("0.1"), "d1"),
        "was not drawn from container 'V2'",
    ),
    ("duplicate entry id", [], Waste("d1", "d1", D("0.1")), "already in the ledger"),
    ("container received twice", [], Receipt("r9", VIAL, D("10"), "safe A"), "already received"),
    (
        "transfer from the wrong place",
        [],
        Transfer("t1", "V1", "fridge", "safe B"),
        "is in 'safe A'",
    ),
    ("transfer to the same place", [], Transfer("t1", "V1", "safe A", "safe A"), "already in"),
    ("count with a stale expected volume", [], Count("c1", "V1", D("10"), D("10")), "reload"),
    ("quarantine twice", [Quarantine("q1", "V1", "x")], Quarantine("q2", "V1", "y"), "already"),
    ("release of a container not quarantined", [], QuarantineRelease("q1", "V1", "ok"), "is not"),
    (
        "correction of a receipt below what was drawn",
        [],
        Correction("k1", "r1", D("-9.5"), "typo"),
        "with -0.5 mL",
    ),
    (
        "correction making an entry negative",
        [Administration("a1", "d1", D("0.5"))],
        Correction("k1", "a1", D("-0.6"), "typo"),
        "below 0 mL",
    ),
    (
        "correction of a draw below what was given",
        [Administration("a1", "d1", D("0.5"))],
        Correction("k1", "d1", D("-0.6"), "typo"),
        "only 0.4 mL was drawn",
    ),
    (
        "correction of an administration above what was drawn",
        [Administration("a1", "d1", D("0.5"))],
        Correction("k1", "a1", D("0.6"), "typo"),
        "would account for 1.1 mL",
    ),
    ("correction of an unknown entry", [], Correction("k1", "zz", D("1"), "typo"), "no entry"),
    (
        "correction of a transfer",
        [Transfer("t1", "V1", "safe A", "safe B")],
        Correction("k1", "t1", D("1"), "typo"),
        "record a new entry instead",
    ),
    (
        "correction of a correction",
        [Correction("k1", "d1", D("0.5"), "typo")],
        Correction("k2", "k1", D("-0.5"), "typo"),
        "correct the original entry",
    ),
]


@pytest.mark.parametrize(
    ("before", "refused", "message"),
    [pytest.param(b, r, m, id=name) for name, b, r, m in REFUSALS],
)
def test_refusals(before: list[Entry], refused: Entry, message: str) -> None:
    state = ledger(Draw("d1", "V1", "s1", D("1")), *before)
    with pytest.raises(LedgerRefused, match=message):
        apply(state, refused, today=TODAY)
    assert invariant_holds(state)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Draw("d1", "V1", "s1", D("0")), "more than 0 mL"),
        (lambda: Draw("d1", "V1", "s1", D("-1")), "more than 0 mL"),
        (lambda: Draw("d1", "V1", "s1", D("NaN")), "more than 0 mL"),
        (lambda: Draw("d1", "V1", "s1", 1.0), "must be a Decimal"),  # type: ignore[arg-type]
        (lambda: Draw("d1", "V1", " ", D("1")), "session id"),
        (lambda: Administration("", "d1", D("1")), "entry id"),
        (lambda: Correction("k1", "a1", D("0"), "typo"), "must change the volume"),
        (lambda: Correction("k1", "a1", D("1"), ""), "reason"),
        (lambda: Count("c1", "V1", D("1"), D("-1")), "0 mL or more"),
        (lambda: Quarantine("q1", "V1", ""), "reason"),
        (
            lambda: Container("V9", D("0"), D("10"), date(2026, 1, 1)),
            "concentration",
        ),
    ],
)
def test_malformed_entries_are_refused_when_built(make: Callable[[], object], message: str) -> None:
    with pytest.raises(LedgerRefused, match=message):
        make()


def test_refused_entry_leaves_the_state_unchanged() -> None:
    state = ledger(Draw("d1", "V1", "s1", D("4")))
    before = (dict(state.containers), dict(state.draws), dict(state.entries))
    with pytest.raises(LedgerRefused):
        apply(state, Administration("a1", "d1", D("5")), today=TODAY)
    assert (dict(state.containers), dict(state.draws), dict(state.entries)) == before


def test_draw_on_the_expiry_date_is_allowed() -> None:
    state = apply(LedgerState(), Receipt("r2", LATER, D("5"), "safe A"), today=TODAY)
    apply(state, Draw("d1", "V2", "s1", D("1")), today=date(2025, 3, 9))


def test_replay_without_today_skips_only_the_expiry_check() -> None:
    entries: list[Entry] = [Receipt("r2", LATER, D("5"), "safe A"), Draw("d1", "V2", "s", D("1"))]
    assert replay(entries).containers["V2"].in_container_ml == D("4")
    with pytest.raises(LedgerRefused, match="expired"):
        replay(entries, today=TODAY)


def test_release_from_quarantine_allows_drawing_again() -> None:
    state = ledger(Quarantine("q1", "V1", "seal"), QuarantineRelease("q2", "V1", "seal intact"))
    state = apply(state, Draw("d1", "V1", "s1", D("1")), today=TODAY)
    assert not state.containers["V1"].quarantined


def test_quarantined_expired_stock_can_still_be_returned_or_destroyed() -> None:
    state = ledger(Quarantine("q1", "V1", "recall"), Return("x1", "V1", D("6")))
    state = apply(state, Destruction("x2", "V1", D("4")), today=date(2030, 1, 1))
    assert state.containers["V1"].on_hand_ml == D("0")
    assert invariant_holds(state)


def test_transfer_moves_the_container_not_its_volume() -> None:
    state = ledger(Transfer("t1", "V1", "safe A", "crash cart"))
    assert state.containers["V1"].location == "crash cart"
    assert state.containers["V1"].in_container_ml == D("10")


def test_count_records_without_moving_volume() -> None:
    state = ledger(Draw("d1", "V1", "s1", D("1")), Count("c1", "V1", D("9"), D("8.8"), True))
    assert state.containers["V1"].in_container_ml == D("9")
    assert "c1" in state.entries


def test_corrections_adjust_the_bucket_of_the_corrected_entry() -> None:
    state = ledger(
        Draw("d1", "V1", "s1", D("1")),
        Administration("a1", "d1", D("0.5")),
        Correction("k1", "a1", D("0.2"), "charted 0.7 mL, typed 0.5"),
        Waste("w1", "d1", D("0.3")),
        Correction("k2", "r1", D("-0.5"), "vial held 9.5 mL"),
    )
    assert state.draws["d1"].administered == D("0.7")
    assert state.draws["d1"].is_reconciled
    assert state.containers["V1"].received == D("9.5")
    assert state.containers["V1"].in_container_ml == D("8.5")
    assert state.corrected_ml == {"a1": D("0.2"), "r1": D("-0.5")}
    assert invariant_holds(state)


def test_an_entry_can_be_corrected_to_zero() -> None:
    state = ledger(
        Draw("d1", "V1", "s1", D("1")),
        Correction("k1", "d1", D("-1"), "drawn from the wrong vial"),
    )
    assert state.draws["d1"].drawn == D("0")
    assert state.containers["V1"].in_container_ml == D("10")


def test_breakage_and_loss_of_a_syringe_close_the_draw() -> None:
    state = ledger(
        Draw("d1", "V1", "s1", D("1")),
        Draw("d2", "V1", "s2", D("1")),
        Breakage("b1", "V1", D("1"), "d1"),
        Loss("l1", "V1", D("1"), "d2"),
        Breakage("b2", "V1", D("0.5")),
    )
    current = state.containers["V1"]
    assert state.draws["d1"].is_reconciled and state.draws["d2"].is_reconciled
    assert (current.draw_broken, current.draw_lost, current.broken) == (D(1), D(1), D("0.5"))
    assert current.in_container_ml == D("7.5")
    assert invariant_holds(state)


def test_container_balance_from_entries() -> None:
    entries: list[Entry] = [RECEIPT, Draw("d1", "V1", "s1", D("2.5"))]
    assert container_balance(entries) == Balance(ml=D("7.5"), mg=D("375.0"))
    assert container_balance(entries, container_id="V1").ml == D("7.5")


def test_container_balance_needs_one_container() -> None:
    with pytest.raises(ValueError, match="one container"):
        container_balance([RECEIPT, Receipt("r2", LATER, D("5"), "safe A")])
    with pytest.raises(ValueError, match="one container"):
        container_balance([])


def test_draw_open_and_reconciled() -> None:
    draw = Draw("d1", "V1", "s1", D("1.5"))
    entries: list[Entry] = [RECEIPT, draw, Administration("a1", "d1", D("1.2"))]
    assert draw_open_ml(draw, entries) == D("0.3")
    assert not draw_is_reconciled(draw, entries)
    entries.append(Waste("w1", "d1", D("0.3")))
    assert draw_open_ml("d1", entries) == D("0")
    assert draw_is_reconciled(draw, entries)
    with pytest.raises(LedgerRefused, match="no draw"):
        draw_open_ml("d9", entries)


def test_invariant_problems_detect_a_tampered_state() -> None:
    from dataclasses import replace

    state = ledger(Draw("d1", "V1", "s1", D("1")))
    tampered = replace(
        state, containers={"V1": replace(state.containers["V1"], administered=D("1"))}
    )
    problems = invariant_problems(tampered)
    assert any("administered is 1, entries sum to 0" in p for p in problems)
    assert not invariant_holds(tampered)
    negative = replace(state, containers={"V1": replace(state.containers["V1"], drawn=D("11"))})
    assert any("negative" in p for p in invariant_problems(negative))


@pytest.mark.parametrize(
    ("expected", "counted", "difference", "shortage", "overage", "text"),
    [
        (D("9"), D("9"), D("0"), False, False, "Count matches the ledger (9 mL)."),
        (D("9"), D("8.5"), D("-0.5"), True, False, "0.5 mL short"),
        (D("9"), D("9.2"), D("0.2"), False, True, "0.2 mL over"),
    ],
)
def test_count_discrepancy(
    expected: D, counted: D, difference: D, shortage: bool, overage: bool, text: str
) -> None:
    result = count_discrepancy(expected, counted)
    assert result.difference_ml == difference
    assert (result.is_shortage, result.is_overage) == (shortage, overage)
    assert result.is_match is (difference == 0)
    assert text in result.describe()


def _draw(session: str, administered: str, mg_per_ml: str = "50") -> DrawState:
    return DrawState(
        draw_id=f"d-{session}-{administered}",
        container_id="V1",
        session_id=session,
        mg_per_ml=D(mg_per_ml),
        drawn=D(administered),
        administered=D(administered),
    )


def test_reconcile_session_reports_only_mismatches() -> None:
    draws = [
        _draw("s1", "0.7"),  # 35 mg
        _draw("s2", "0.5"),
        _draw("s2", "0.3", "100"),  # 25 + 30 = 55 mg
        _draw("s3", "1"),  # 50 mg, not charted
    ]
    charted = {"s1": D("35"), "s2": D("50"), "s4": D("20")}
    mismatches = reconcile_session(charted, draws)
    assert [(m.session_id, m.charted_mg, m.ledger_mg) for m in mismatches] == [
        ("s2", D("50"), D("55.0")),
        ("s3", None, D("50")),
        ("s4", D("20"), D("0")),
    ]
    assert mismatches[0].difference_mg == D("5")
    assert "no dose is charted" in mismatches[1].describe()
    assert "charted 20 mg" in mismatches[2].describe()


def test_reconcile_session_tolerance() -> None:
    draws = [_draw("s1", "0.71")]  # 35.5 mg
    assert reconcile_session({"s1": D("35")}, draws, tolerance_mg=D("0.5")) == []
    assert len(reconcile_session({"s1": D("35")}, draws)) == 1


def test_entry_chain_uses_the_shared_hash_chain() -> None:
    entries: list[Entry] = [RECEIPT, Draw("d1", "V1", "s1", D("1"))]
    hashes = entry_chain(entries)
    assert hashes[0] == chain_hash(GENESIS_HASH, entry_payload(RECEIPT))
    assert hashes[1] == chain_hash(hashes[0], entry_payload(entries[1]))
    assert entry_payload(entries[1]) == {
        "kind": "draw",
        "entry_id": "d1",
        "container_id": "V1",
        "session_id": "s1",
        "ml": D("1"),
    }
    changed = entry_chain([RECEIPT, Draw("d1", "V1", "s1", D("1.0"))])
    assert changed[1] != hashes[1]  # the record as typed is what is hashed
