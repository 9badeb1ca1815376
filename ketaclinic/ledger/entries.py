"""Ledger entries: immutable records of what happened to a ketamine container.

Each kind is a frozen dataclass that checks its own fields (positive volumes, non-empty ids
and reasons) and raises `LedgerRefused` otherwise. Whether the ledger accepts an entry is
decided by `ketaclinic.ledger.arithmetic.apply`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash

ZERO = Decimal("0")


class LedgerRefused(ValueError):
    """An entry the ledger will not accept; `reason` is a sentence to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def ml_text(value: Decimal) -> str:
    """Show a volume as typed (Decimal keeps the user's digits), with its unit."""
    return f"{value.normalize():f} mL" if value != ZERO else "0 mL"


def _require_positive(ml: Decimal, what: str) -> None:
    if not isinstance(ml, Decimal):
        raise LedgerRefused(f"The {what} volume must be a Decimal, not {type(ml).__name__}.")
    if not ml.is_finite() or ml <= ZERO:
        raise LedgerRefused(f"The {what} volume must be more than 0 mL (got {ml}).")


def _require_text(value: str, what: str) -> None:
    if not value.strip():
        raise LedgerRefused(f"The {what} must not be empty.")


@dataclass(frozen=True, slots=True)
class Container:
    """One vial as received: its concentration gives milligrams from millilitres."""

    container_id: str
    mg_per_ml: Decimal
    nominal_ml: Decimal
    expires_on: date
    """Last day of use (a label's "EXP 2026-05" is 2026-05-31)."""
    ndc: str = ""
    lot: str = ""

    def __post_init__(self) -> None:
        _require_text(self.container_id, "container id")
        if not self.mg_per_ml.is_finite() or self.mg_per_ml <= ZERO:
            raise LedgerRefused(
                f"The concentration must be more than 0 mg/mL (got {self.mg_per_ml})."
            )
        _require_positive(self.nominal_ml, "nominal")


@dataclass(frozen=True, slots=True)
class Receipt:
    """A container arrives in stock, at a storage location."""

    entry_id: str
    container: Container
    ml: Decimal
    location: str

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "received")
        _require_text(self.location, "storage location")


@dataclass(frozen=True, slots=True)
class Draw:
    """Volume drawn from a container into a syringe for a session; its `entry_id` is the draw id."""

    entry_id: str
    container_id: str
    session_id: str
    ml: Decimal

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_text(self.session_id, "session id")
        _require_positive(self.ml, "drawn")


@dataclass(frozen=True, slots=True)
class Administration:
    """Volume of a draw given to the patient."""

    entry_id: str
    draw_id: str
    ml: Decimal

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "administered")


@dataclass(frozen=True, slots=True)
class Waste:
    """Volume of a draw left after the dose and destroyed (recorded, no Form 41)."""

    entry_id: str
    draw_id: str
    ml: Decimal

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "wasted")


@dataclass(frozen=True, slots=True)
class Transfer:
    """The container moves between storage locations; its volume does not change."""

    entry_id: str
    container_id: str
    from_location: str
    to_location: str

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_text(self.to_location, "destination location")


@dataclass(frozen=True, slots=True)
class Return:
    """Volume sent back to a reverse distributor."""

    entry_id: str
    container_id: str
    ml: Decimal

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "returned")


@dataclass(frozen=True, slots=True)
class Destruction:
    """Stock destroyed on site (witnessed, DEA Form 41)."""

    entry_id: str
    container_id: str
    ml: Decimal

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "destroyed")


@dataclass(frozen=True, slots=True)
class Breakage:
    """Breakage or spill, from the vial or (with `draw_id`) from a drawn syringe."""

    entry_id: str
    container_id: str
    ml: Decimal
    draw_id: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "broken or spilled")


@dataclass(frozen=True, slots=True)
class Loss:
    """Theft or significant loss (DEA Form 106), from the vial or (with `draw_id`) a syringe."""

    entry_id: str
    container_id: str
    ml: Decimal
    draw_id: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_positive(self.ml, "lost")


@dataclass(frozen=True, slots=True)
class Count:
    """A count of what is in the container against what the ledger expects (no volume moves).

    `estimated` is for opened Schedule III containers, which an inventory may estimate
    (21 CFR 1304.11(e)).
    """

    entry_id: str
    container_id: str
    expected_ml: Decimal
    counted_ml: Decimal
    estimated: bool = False

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        for value, what in ((self.expected_ml, "expected"), (self.counted_ml, "counted")):
            if not value.is_finite() or value < ZERO:
                raise LedgerRefused(f"The {what} volume must be 0 mL or more (got {value}).")


@dataclass(frozen=True, slots=True)
class Quarantine:
    """The container may not be drawn from until released (suspected tampering, recall)."""

    entry_id: str
    container_id: str
    reason: str

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_text(self.reason, "reason for the quarantine")


@dataclass(frozen=True, slots=True)
class QuarantineRelease:
    entry_id: str
    container_id: str
    reason: str

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_text(self.reason, "reason for the release")


@dataclass(frozen=True, slots=True)
class Correction:
    """A signed compensating amount against an earlier entry that moved volume.

    +0.5 on an administration means 0.5 mL more was given than first recorded.
    """

    entry_id: str
    corrects: str
    ml: Decimal
    reason: str

    def __post_init__(self) -> None:
        _require_text(self.entry_id, "entry id")
        _require_text(self.reason, "reason for the correction")
        if not isinstance(self.ml, Decimal) or not self.ml.is_finite() or self.ml == ZERO:
            raise LedgerRefused(f"A correction must change the volume (got {self.ml}).")


Entry = (
    Receipt
    | Draw
    | Administration
    | Waste
    | Transfer
    | Return
    | Destruction
    | Breakage
    | Loss
    | Count
    | Quarantine
    | QuarantineRelease
    | Correction
)

ENTRY_KINDS: Mapping[type[Any], str] = {
    Receipt: "receipt",
    Draw: "draw",
    Administration: "administration",
    Waste: "waste",
    Transfer: "transfer",
    Return: "return",
    Destruction: "destruction",
    Breakage: "breakage",
    Loss: "loss",
    Count: "count",
    Quarantine: "quarantine",
    QuarantineRelease: "quarantine_release",
    Correction: "correction",
}


# --- hash chain ----------------------------------------------------------------------------


def entry_payload(entry: Entry) -> dict[str, Any]:
    """The canonical content of an entry, for hashing and export."""
    return {"kind": ENTRY_KINDS[type(entry)], **asdict(entry)}


def entry_chain(entries: Iterable[Entry], *, prev_hash: str = GENESIS_HASH) -> list[str]:
    """The chain hash after each entry (`ketaclinic.lib.hashchain.chain_hash`)."""
    hashes: list[str] = []
    for entry in entries:
        prev_hash = chain_hash(prev_hash, entry_payload(entry))
        hashes.append(prev_hash)
    return hashes
