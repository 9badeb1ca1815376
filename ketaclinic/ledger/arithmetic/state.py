"""The ledger's state: the buckets of each container and of each draw, and the whole ledger's
state that `apply` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from ketaclinic.ledger.entries import ZERO, Container, Entry


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
    def finished(self) -> bool:
        """Done with: not quarantined, nothing left in the vial and nothing drawn from it still
        unaccounted for. Only a correction can bring it back."""
        return not self.quarantined and self.in_container_ml <= ZERO and self.open_draws_ml == ZERO

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
