"""Reads of the pure ledger: a container's balance, a draw's open volume, the invariants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal

from ketaclinic.ledger.arithmetic.apply import _container, _movement, replay
from ketaclinic.ledger.arithmetic.state import Balance, ContainerState, DrawState, LedgerState
from ketaclinic.ledger.entries import ZERO, Draw, Entry, LedgerRefused


def container_balance(entries: Iterable[Entry], *, container_id: str | None = None) -> Balance:
    """What is left in the vial (open draws excluded; see `ContainerState.on_hand_ml`).

    `entries` are replayed; they must include the receipt and, for administrations, wastes
    and corrections, the entries they refer to. Without `container_id`, the entries must
    concern exactly one container.
    """
    state = replay(entries)
    if container_id is None:
        if len(state.containers) != 1:
            raise ValueError(
                f"container_balance needs the entries of one container, got "
                f"{len(state.containers)}; pass container_id"
            )
        (current,) = state.containers.values()
    else:
        current = _container(state, container_id)
    return current.balance


def _draw_state(draw: Draw | str, entries: Iterable[Entry]) -> DrawState:
    draw_id = draw.entry_id if isinstance(draw, Draw) else draw
    state = replay(entries)
    found = state.draws.get(draw_id)
    if found is None:
        raise LedgerRefused(f"There is no draw {draw_id!r} in these entries.")
    return found


def draw_open_ml(draw: Draw | str, entries: Iterable[Entry]) -> Decimal:
    """Drawn minus administered, wasted, broken and lost (the last two only if recorded
    against the draw), corrections included."""
    return _draw_state(draw, entries).open_ml


def draw_is_reconciled(draw: Draw | str, entries: Iterable[Entry]) -> bool:
    """Every mL drawn is accounted for, exactly (administered + wasted == drawn when nothing
    from the syringe broke or was lost)."""
    return _draw_state(draw, entries).is_reconciled


def invariant_problems(state: LedgerState) -> list[str]:
    """Why the ledger invariant does not hold (empty when it does).

    For every container: received = administered + wasted + destroyed + returned + broken +
    lost + on hand, where on hand includes drawn-but-unaccounted volume in open draws; no
    total and no balance below zero; the running totals equal the sums recomputed from the
    entries; each container's draw totals equal the sums over its draws.
    """
    problems: list[str] = []
    recomputed: dict[tuple[str, str], Decimal] = {}
    draw_totals: dict[tuple[str, str], Decimal] = {}
    for entry in state.entries.values():
        movement = _movement(state, entry)
        if movement is None:
            continue
        key = (movement.container_id, movement.container_bucket)
        recomputed[key] = recomputed.get(key, ZERO) + movement.ml
        if movement.draw_id is not None and movement.draw_bucket is not None:
            dkey = (movement.draw_id, movement.draw_bucket)
            draw_totals[dkey] = draw_totals.get(dkey, ZERO) + movement.ml

    for cid, current in state.containers.items():
        for bucket in fields(ContainerState):
            value = getattr(current, bucket.name)
            if not isinstance(value, Decimal):
                continue
            if value < ZERO:
                problems.append(f"{cid}: {bucket.name} is negative ({value})")
            expected = recomputed.get((cid, bucket.name), ZERO)
            if value != expected:
                problems.append(f"{cid}: {bucket.name} is {value}, entries sum to {expected}")
        if current.in_container_ml < ZERO:
            problems.append(f"{cid}: in container is negative ({current.in_container_ml})")
        if current.open_draws_ml < ZERO:
            problems.append(f"{cid}: open draws are negative ({current.open_draws_ml})")
        accounted = (
            current.administered
            + current.wasted
            + current.destroyed
            + current.returned
            + current.broken
            + current.draw_broken
            + current.lost
            + current.draw_lost
            + current.on_hand_ml
        )
        if current.received != accounted:
            problems.append(f"{cid}: received {current.received} but accounted for {accounted}")
        own = [d for d in state.draws.values() if d.container_id == cid]
        pairs: tuple[tuple[str, str], ...] = (
            ("drawn", "drawn"),
            ("administered", "administered"),
            ("wasted", "wasted"),
            ("draw_broken", "broken"),
            ("draw_lost", "lost"),
        )
        for container_bucket, draw_bucket in pairs:
            total = sum((getattr(d, draw_bucket) for d in own), ZERO)
            if getattr(current, container_bucket) != total:
                problems.append(f"{cid}: {container_bucket} differs from the sum over its draws")

    for did, draw in state.draws.items():
        if draw.open_ml < ZERO:
            problems.append(f"draw {did}: more accounted for than drawn ({draw.open_ml})")
        for name in ("drawn", "administered", "wasted", "broken", "lost"):
            value = getattr(draw, name)
            if value < ZERO:
                problems.append(f"draw {did}: {name} is negative ({value})")
            if value != draw_totals.get((did, name), ZERO):
                problems.append(f"draw {did}: {name} differs from its entries")
    return problems


def invariant_holds(state: LedgerState) -> bool:
    return not invariant_problems(state)
