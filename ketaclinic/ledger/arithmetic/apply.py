"""`apply`: one entry checked against the ledger's rules and added to the state (or refused
with `LedgerRefused`); `replay` of a sequence of entries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal

from ketaclinic.ledger.arithmetic.state import (
    ContainerBucket,
    ContainerState,
    DrawBucket,
    DrawState,
    LedgerState,
)
from ketaclinic.ledger.entries import (
    ENTRY_KINDS,
    ZERO,
    Administration,
    Breakage,
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
    ml_text,
)


@dataclass(frozen=True, slots=True)
class _Movement:
    container_id: str
    container_bucket: ContainerBucket
    draw_id: str | None
    draw_bucket: DrawBucket | None
    ml: Decimal


_NOT_CORRECTABLE = (Transfer, Count, Quarantine, QuarantineRelease, Correction)


def _draw_container(state: LedgerState, draw_id: str) -> str:
    draw = state.draws.get(draw_id)
    if draw is None:
        raise LedgerRefused(f"There is no draw {draw_id!r} in the ledger.")
    return draw.container_id


def _movement(state: LedgerState, entry: Entry) -> _Movement | None:
    """Which buckets an entry changes, and by how much; None for entries that move nothing."""
    match entry:
        case Receipt():
            return _Movement(entry.container.container_id, "received", None, None, entry.ml)
        case Draw():
            return _Movement(entry.container_id, "drawn", entry.entry_id, "drawn", entry.ml)
        case Administration():
            cid = _draw_container(state, entry.draw_id)
            return _Movement(cid, "administered", entry.draw_id, "administered", entry.ml)
        case Waste():
            cid = _draw_container(state, entry.draw_id)
            return _Movement(cid, "wasted", entry.draw_id, "wasted", entry.ml)
        case Return():
            return _Movement(entry.container_id, "returned", None, None, entry.ml)
        case Destruction():
            return _Movement(entry.container_id, "destroyed", None, None, entry.ml)
        case Breakage():
            if entry.draw_id is None:
                return _Movement(entry.container_id, "broken", None, None, entry.ml)
            return _Movement(entry.container_id, "draw_broken", entry.draw_id, "broken", entry.ml)
        case Loss():
            if entry.draw_id is None:
                return _Movement(entry.container_id, "lost", None, None, entry.ml)
            return _Movement(entry.container_id, "draw_lost", entry.draw_id, "lost", entry.ml)
        case Correction():
            target = state.entries.get(entry.corrects)
            if target is None:
                raise LedgerRefused(f"There is no entry {entry.corrects!r} to correct.")
            if isinstance(target, _NOT_CORRECTABLE):
                kind = ENTRY_KINDS[type(target)]
                raise LedgerRefused(
                    f"A {kind} entry moves no volume and cannot be corrected by an amount; "
                    + (
                        "correct the original entry instead (corrections add up)."
                        if isinstance(target, Correction)
                        else "record a new entry instead."
                    )
                )
            moved = _movement(state, target)
            assert moved is not None  # every correctable kind moves volume
            return replace(moved, ml=entry.ml)
        case Transfer() | Count() | Quarantine() | QuarantineRelease():
            return None


def _moved(state: LedgerState, movement: _Movement) -> LedgerState:
    """The state with one movement added; no checks."""
    containers = dict(state.containers)
    current = containers[movement.container_id]
    bucket = movement.container_bucket
    containers[movement.container_id] = replace(
        current, **{bucket: getattr(current, bucket) + movement.ml}
    )
    draws = state.draws
    if movement.draw_id is not None and movement.draw_bucket is not None:
        draws = dict(draws)
        draw = draws[movement.draw_id]
        dbucket = movement.draw_bucket
        draws[movement.draw_id] = replace(draw, **{dbucket: getattr(draw, dbucket) + movement.ml})
    return replace(state, containers=containers, draws=draws)


# --- apply ---------------------------------------------------------------------------------


def _container(state: LedgerState, container_id: str) -> ContainerState:
    current = state.containers.get(container_id)
    if current is None:
        raise LedgerRefused(f"Container {container_id!r} has not been received into the ledger.")
    return current


def _check_before(state: LedgerState, entry: Entry, today: date | None) -> None:
    """Refusals that need the state before the entry."""
    if entry.entry_id in state.entries:
        raise LedgerRefused(f"Entry {entry.entry_id!r} is already in the ledger.")
    match entry:
        case Receipt():
            cid = entry.container.container_id
            if cid in state.containers:
                raise LedgerRefused(
                    f"Container {cid!r} was already received; correct that receipt instead."
                )
        case Draw():
            current = _container(state, entry.container_id)
            if current.quarantined:
                raise LedgerRefused(
                    f"Container {entry.container_id!r} is quarantined; do not draw from it."
                )
            if today is not None and current.is_expired(today):
                raise LedgerRefused(
                    f"Container {entry.container_id!r} expired on "
                    f"{current.container.expires_on.isoformat()}; do not draw from it."
                )
            if entry.ml > current.in_container_ml:
                raise LedgerRefused(
                    f"Cannot draw {ml_text(entry.ml)} from container {entry.container_id!r}: "
                    f"it holds only {ml_text(current.in_container_ml)}."
                )
        case Administration() | Waste():
            _draw_container(state, entry.draw_id)
        case Return() | Destruction():
            _container(state, entry.container_id)
        case Breakage() | Loss():
            _container(state, entry.container_id)
            if (
                entry.draw_id is not None
                and _draw_container(state, entry.draw_id) != entry.container_id
            ):
                raise LedgerRefused(
                    f"Draw {entry.draw_id!r} was not drawn from container {entry.container_id!r}."
                )
        case Transfer():
            current = _container(state, entry.container_id)
            if entry.from_location != current.location:
                raise LedgerRefused(
                    f"Container {entry.container_id!r} is in {current.location!r}, "
                    f"not {entry.from_location!r}."
                )
            if entry.to_location == current.location:
                raise LedgerRefused(
                    f"Container {entry.container_id!r} is already in {entry.to_location!r}."
                )
        case Count():
            current = _container(state, entry.container_id)
            if entry.expected_ml != current.in_container_ml:
                raise LedgerRefused(
                    f"The expected volume of the count ({ml_text(entry.expected_ml)}) is not what "
                    f"the ledger holds for container {entry.container_id!r} "
                    f"({ml_text(current.in_container_ml)}); reload and count again."
                )
        case Quarantine():
            if _container(state, entry.container_id).quarantined:
                raise LedgerRefused(f"Container {entry.container_id!r} is already quarantined.")
        case QuarantineRelease():
            if not _container(state, entry.container_id).quarantined:
                raise LedgerRefused(f"Container {entry.container_id!r} is not quarantined.")
        case Correction():
            target = state.entries.get(entry.corrects)
            if target is None:
                raise LedgerRefused(f"There is no entry {entry.corrects!r} to correct.")
            if not isinstance(target, _NOT_CORRECTABLE):
                net = target.ml + state.corrected_ml.get(entry.corrects, ZERO) + entry.ml
                if net < ZERO:
                    raise LedgerRefused(
                        f"This correction would make entry {entry.corrects!r} "
                        f"{ml_text(net)}; an entry cannot go below 0 mL."
                    )


def _check_after(state: LedgerState, movement: _Movement) -> None:
    """Refusals that look at the state the entry would leave."""
    current = state.containers[movement.container_id]
    cid = movement.container_id
    if current.in_container_ml < ZERO:
        raise LedgerRefused(
            f"This would leave container {cid!r} with {ml_text(current.in_container_ml)}; "
            "a balance cannot go below 0 mL."
        )
    for bucket in fields(ContainerState):
        value = getattr(current, bucket.name)
        if isinstance(value, Decimal) and value < ZERO:
            raise LedgerRefused(f"This would make the {bucket.name} total of {cid!r} negative.")
    if movement.draw_id is not None:
        draw = state.draws[movement.draw_id]
        if draw.open_ml < ZERO:
            accounted = draw.administered + draw.wasted + draw.broken + draw.lost
            raise LedgerRefused(
                f"Draw {movement.draw_id!r} would account for {ml_text(accounted)} "
                f"(administered {ml_text(draw.administered)}, wasted {ml_text(draw.wasted)}) "
                f"but only {ml_text(draw.drawn)} was drawn."
            )


def apply(state: LedgerState, entry: Entry, *, today: date | None) -> LedgerState:
    """The ledger with `entry` added, or `LedgerRefused` with the reason; `state` is unchanged.

    `today` is the clinic's local date, used to refuse draws from expired containers. Pass
    None only when replaying entries that were already accepted (the expiry check is then
    skipped; every other check still runs).
    """
    _check_before(state, entry, today)
    movement = _movement(state, entry)
    new = state
    match entry:
        case Receipt():
            cid = entry.container.container_id
            new = replace(
                new,
                containers={
                    **new.containers,
                    cid: ContainerState(container=entry.container, location=entry.location),
                },
            )
        case Draw():
            current = new.containers[entry.container_id]
            draw = DrawState(
                draw_id=entry.entry_id,
                container_id=entry.container_id,
                session_id=entry.session_id,
                mg_per_ml=current.container.mg_per_ml,
            )
            new = replace(new, draws={**new.draws, entry.entry_id: draw})
        case Transfer():
            current = new.containers[entry.container_id]
            moved = replace(current, location=entry.to_location)
            new = replace(new, containers={**new.containers, entry.container_id: moved})
        case Quarantine() | QuarantineRelease():
            current = new.containers[entry.container_id]
            flagged = replace(current, quarantined=isinstance(entry, Quarantine))
            new = replace(new, containers={**new.containers, entry.container_id: flagged})
        case Correction():
            total = new.corrected_ml.get(entry.corrects, ZERO) + entry.ml
            new = replace(new, corrected_ml={**new.corrected_ml, entry.corrects: total})
        case _:
            pass
    if movement is not None:
        new = _moved(new, movement)
        _check_after(new, movement)
    return replace(new, entries={**new.entries, entry.entry_id: entry})


def replay(entries: Iterable[Entry], *, today: date | None = None) -> LedgerState:
    """Apply entries in order to an empty ledger (refusing as `apply` does)."""
    state = LedgerState()
    for entry in entries:
        state = apply(state, entry, today=today)
    return state
