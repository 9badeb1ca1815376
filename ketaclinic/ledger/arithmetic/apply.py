"""The ketamine ledger as pure arithmetic over immutable entries.

Ketamine is a DEA Schedule III controlled substance: every receipt and every disposal is
recorded (21 CFR 1304.21, 1304.22(c)). This module holds the arithmetic and the refusal rules;
services store entries and call `apply` inside their transaction (with the container row
locked) before saving the new entry. No Django import.

Quantities are `Decimal` millilitres, exact (never rounded here); milligrams are millilitres
times the container's concentration (mg/mL) from its receipt.

Where the volume of one container can be (the buckets)::

    received = in container + open draws
             + administered + wasted + destroyed + returned + broken + lost

* *in container*: still in the vial;
* *open draws*: drawn into a syringe for a session and not yet accounted for as administered,
  wasted, broken or lost. "On hand" is in container + open draws: drug still in the clinic's
  custody;
* *broken* is breakage or spill, *lost* is theft or significant loss (DEA Form 106). Both can
  happen to the vial or to a drawn syringe (pass the draw's id).

The ledger is append-only: a mistake is fixed by a `Correction`, a signed compensating amount
against an earlier quantity-bearing entry, with a reason.

Entries that move no volume: `Transfer` (the container changes storage location), `Count`
(a counted volume against the expected one), `Quarantine` and `QuarantineRelease`
(a quarantined container cannot be drawn from; these two kinds are an addition to the brief's
list, because quarantine has to be recorded somewhere and the ledger is the place).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from ketaclinic.ledger.entries import (
    ENTRY_KINDS,
    ZERO,
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
    ml_text,
)

# --- state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Balance:
    ml: Decimal
    mg: Decimal


ContainerBucket = Literal[
    "received",
    "drawn",
    "returned",
    "destroyed",
    "broken",
    "lost",
    "administered",
    "wasted",
    "draw_broken",
    "draw_lost",
]
DrawBucket = Literal["drawn", "administered", "wasted", "broken", "lost"]


@dataclass(frozen=True, slots=True)
class ContainerState:
    """Running totals for one container (every total is the sum of entries and corrections).

    `broken` and `lost` are from the vial; `draw_broken` and `draw_lost` from its draws.
    `administered`, `wasted`, `draw_broken` and `draw_lost` are the sums over its draws.
    """

    container: Container
    location: str
    quarantined: bool = False
    received: Decimal = ZERO
    drawn: Decimal = ZERO
    returned: Decimal = ZERO
    destroyed: Decimal = ZERO
    broken: Decimal = ZERO
    lost: Decimal = ZERO
    administered: Decimal = ZERO
    wasted: Decimal = ZERO
    draw_broken: Decimal = ZERO
    draw_lost: Decimal = ZERO

    @property
    def in_container_ml(self) -> Decimal:
        return self.received - self.drawn - self.returned - self.destroyed - self.broken - self.lost

    @property
    def open_draws_ml(self) -> Decimal:
        return self.drawn - self.administered - self.wasted - self.draw_broken - self.draw_lost

    @property
    def on_hand_ml(self) -> Decimal:
        """In the clinic's custody: in the vial plus drawn but not yet accounted for."""
        return self.in_container_ml + self.open_draws_ml

    @property
    def balance(self) -> Balance:
        """What is left in the vial."""
        ml = self.in_container_ml
        return Balance(ml=ml, mg=ml * self.container.mg_per_ml)

    def is_expired(self, today: date) -> bool:
        return today > self.container.expires_on


@dataclass(frozen=True, slots=True)
class DrawState:
    draw_id: str
    container_id: str
    session_id: str
    mg_per_ml: Decimal
    drawn: Decimal = ZERO
    administered: Decimal = ZERO
    wasted: Decimal = ZERO
    broken: Decimal = ZERO
    lost: Decimal = ZERO

    @property
    def open_ml(self) -> Decimal:
        """Drawn and not yet administered, wasted, broken or lost."""
        return self.drawn - self.administered - self.wasted - self.broken - self.lost

    @property
    def is_reconciled(self) -> bool:
        return self.open_ml == ZERO

    @property
    def administered_mg(self) -> Decimal:
        return self.administered * self.mg_per_ml


@dataclass(frozen=True, slots=True)
class LedgerState:
    """Everything accepted so far. Never changed in place: `apply` returns a new one."""

    containers: Mapping[str, ContainerState] = field(default_factory=dict)
    draws: Mapping[str, DrawState] = field(default_factory=dict)
    entries: Mapping[str, Entry] = field(default_factory=dict)
    """Every accepted entry by id, in the order accepted."""
    corrected_ml: Mapping[str, Decimal] = field(default_factory=dict)
    """Sum of the corrections made to each entry, by the corrected entry's id."""


# --- movements -----------------------------------------------------------------------------


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


# --- reads ---------------------------------------------------------------------------------


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


# --- counts and reconciliation -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountDiscrepancy:
    expected_ml: Decimal
    counted_ml: Decimal

    @property
    def difference_ml(self) -> Decimal:
        """Counted minus expected: negative is a shortage, positive an overage."""
        return self.counted_ml - self.expected_ml

    @property
    def is_match(self) -> bool:
        return self.difference_ml == ZERO

    @property
    def is_shortage(self) -> bool:
        return self.difference_ml < ZERO

    @property
    def is_overage(self) -> bool:
        return self.difference_ml > ZERO

    def describe(self) -> str:
        if self.is_match:
            return f"Count matches the ledger ({ml_text(self.counted_ml)})."
        kind = "short" if self.is_shortage else "over"
        return (
            f"Counted {ml_text(self.counted_ml)}, the ledger expects {ml_text(self.expected_ml)}: "
            f"{ml_text(abs(self.difference_ml))} {kind}."
        )


def count_discrepancy(expected: Decimal, counted: Decimal) -> CountDiscrepancy:
    """Compare a count with the ledger. A shortage is investigated; if it is theft or a
    significant loss, record a `Loss` and file DEA Form 106 (see `deadlines`)."""
    return CountDiscrepancy(expected_ml=expected, counted_ml=counted)


@dataclass(frozen=True, slots=True)
class SessionMismatch:
    session_id: str
    charted_mg: Decimal | None
    """None when the session has ledger administrations but no charted dose."""
    ledger_mg: Decimal

    @property
    def difference_mg(self) -> Decimal:
        """Ledger minus chart."""
        return self.ledger_mg - (self.charted_mg or ZERO)

    def describe(self) -> str:
        if self.charted_mg is None:
            return (
                f"Session {self.session_id}: the ledger shows {self.ledger_mg} mg administered "
                "but no dose is charted."
            )
        return (
            f"Session {self.session_id}: charted {self.charted_mg} mg, the ledger shows "
            f"{self.ledger_mg} mg administered."
        )


def reconcile_session(
    charted_dose_mg: Mapping[str, Decimal],
    draws: Iterable[DrawState],
    *,
    tolerance_mg: Decimal = ZERO,
) -> list[SessionMismatch]:
    """Sessions whose charted administered dose differs from the ledger's.

    `charted_dose_mg` maps session id to the dose charted as given; `draws` are the draws of
    those sessions (e.g. `state.draws.values()`). Differences within `tolerance_mg` (default
    0: exact) are not reported. Sorted by session id.
    """
    ledger: dict[str, Decimal] = {}
    for draw in draws:
        ledger[draw.session_id] = ledger.get(draw.session_id, ZERO) + draw.administered_mg
    mismatches: list[SessionMismatch] = []
    for session_id in sorted(set(charted_dose_mg) | set(ledger)):
        charted = charted_dose_mg.get(session_id)
        given = ledger.get(session_id, ZERO)
        if charted is None:
            if given != ZERO:
                mismatches.append(SessionMismatch(session_id, None, given))
        elif abs(given - charted) > tolerance_mg:
            mismatches.append(SessionMismatch(session_id, charted, given))
    return mismatches
