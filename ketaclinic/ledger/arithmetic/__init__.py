"""The ketamine ledger as pure arithmetic over immutable entries.

Ketamine is a DEA Schedule III controlled substance: every receipt and every disposal is
recorded (21 CFR 1304.21, 1304.22(c)). This package holds the arithmetic and the refusal rules;
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

One module per part: `state` (the buckets), `apply` (the rules, one entry at a time, and
`replay`), `reads` (balances, open draws, the invariants) and `reconciliation` (counts and a
session's dose against its draws). Callers import from here (`arithmetic.apply`).
"""

from ketaclinic.ledger.arithmetic.apply import (
    apply,
    replay,
)
from ketaclinic.ledger.arithmetic.reads import (
    container_balance,
    draw_is_reconciled,
    draw_open_ml,
    invariant_holds,
    invariant_problems,
)
from ketaclinic.ledger.arithmetic.reconciliation import (
    CountDiscrepancy,
    SessionMismatch,
    count_discrepancy,
    reconcile_session,
)
from ketaclinic.ledger.arithmetic.state import (
    Balance,
    ContainerBucket,
    ContainerState,
    DrawBucket,
    DrawState,
    LedgerState,
)

__all__ = [
    "Balance",
    "ContainerBucket",
    "ContainerState",
    "CountDiscrepancy",
    "DrawBucket",
    "DrawState",
    "LedgerState",
    "SessionMismatch",
    "apply",
    "container_balance",
    "count_discrepancy",
    "draw_is_reconciled",
    "draw_open_ml",
    "invariant_holds",
    "invariant_problems",
    "reconcile_session",
    "replay",
]
