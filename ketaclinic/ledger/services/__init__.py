"""Writes to the ketamine ledger. Each runs in one transaction, locks the container rows it
moves (in id order) and then the chain head, checks the movement with the pure `apply`, appends
hash-chained entries and writes its audit events in the same transaction.

Refusals of the ledger's rules raise `LedgerRefused` (HTTP 409); wrong input (a bad DEA number,
a witness who cannot authenticate) raises `ValidationError` with field names (HTTP 422). Both
store nothing.

One module per kind of write: `core` (input checks, locks, the append to the chain),
`witnesses`, `locations`, `receipts`, `draws` (with administration and waste), `movements`
and `counts` (with investigations and inventories). Callers import from here
(`services.ledger_draw`); the names below are the public ones.
"""

from ketaclinic.ledger.services.counts import (
    CountLine,
    investigation_resolve,
    ledger_count,
    ledger_inventory_take,
)
from ketaclinic.ledger.services.draws import ledger_administration_record, ledger_draw, ledger_waste
from ketaclinic.ledger.services.locations import (
    DEFAULT_STORAGE_NAME,
    location_register,
    location_witness_policy_set,
    storage_location_create,
)
from ketaclinic.ledger.services.movements import (
    ledger_breakage,
    ledger_correct,
    ledger_destroy,
    ledger_loss,
    ledger_quarantine,
    ledger_return,
    ledger_transfer,
)
from ketaclinic.ledger.services.receipts import ledger_receive
from ketaclinic.ledger.services.witnesses import WitnessCredentials, witness_authenticate

__all__ = [
    "DEFAULT_STORAGE_NAME",
    "CountLine",
    "WitnessCredentials",
    "investigation_resolve",
    "ledger_administration_record",
    "ledger_breakage",
    "ledger_correct",
    "ledger_count",
    "ledger_destroy",
    "ledger_draw",
    "ledger_inventory_take",
    "ledger_loss",
    "ledger_quarantine",
    "ledger_receive",
    "ledger_return",
    "ledger_transfer",
    "ledger_waste",
    "location_register",
    "location_witness_policy_set",
    "storage_location_create",
    "witness_authenticate",
]
