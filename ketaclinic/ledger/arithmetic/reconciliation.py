"""A count against the expected volume, and a session's administered dose against its draws."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.ledger.arithmetic.state import DrawState
from ketaclinic.ledger.entries import ZERO, ml_text


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
