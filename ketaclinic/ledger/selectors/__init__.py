"""Reads of the ketamine ledger: rows turned into the pure entries and replayed, session checks
for signing, and access-checked lookups for the pages and the API.

How the administered amount reaches the ledger (the choice, documented here): the chart owns
the dose. When the infusion stops, the chart calls
`ketaclinic.ledger.services.ledger_administration_record(acting_user=..., session=...)`, which
records Administration entries against the session's draws (the charted `administered_mg`
converted to millilitres with each container's concentration, filling the draws in the order
they were drawn). Until it has been called, `session_ledger_problems` computes the same split
from the chart at reconciliation time, so a session can be checked before and after.

One module per kind of read: `chain` (rows as the pure entries, a container's ledger, the
verification of the chain), `sessions` (a session's draws and its problems for signing), `access`
(access-checked lookups) and `pages` (stock, history, draw sessions, investigations). Callers
import from here (`selectors.container_ledger`); the names below are the public ones.
"""

from ketaclinic.ledger.selectors.access import (
    container_get_for_user,
    entry_get_for_user,
    ledger_view_require,
)
from ketaclinic.ledger.selectors.chain import (
    MG_TOLERANCE,
    ML_QUANTUM,
    ContainerLedger,
    LedgerProblem,
    container_ledger,
    entry_hash_payload,
    entry_ref,
    entry_to_pure,
    ledger_verify,
    ml_quantize,
)
from ketaclinic.ledger.selectors.pages import (
    DRAWABLE_STATUSES,
    EMPTY_SHOWN,
    IN_THE_CHAIR,
    ContainerHistory,
    ContainerRow,
    HistoryLine,
    LocationStock,
    StorageStock,
    container_history,
    container_status,
    draw_sessions_for_user,
    investigation_get_for_user,
    investigations_open_for_user,
    ledger_stock_for_user,
)
from ketaclinic.ledger.selectors.sessions import (
    administration_split,
    session_draw_states,
    session_draws,
    session_ledger_problems,
)

__all__ = [
    "DRAWABLE_STATUSES",
    "EMPTY_SHOWN",
    "IN_THE_CHAIR",
    "MG_TOLERANCE",
    "ML_QUANTUM",
    "ContainerHistory",
    "ContainerLedger",
    "ContainerRow",
    "HistoryLine",
    "LedgerProblem",
    "LocationStock",
    "StorageStock",
    "administration_split",
    "container_get_for_user",
    "container_history",
    "container_ledger",
    "container_status",
    "draw_sessions_for_user",
    "entry_get_for_user",
    "entry_hash_payload",
    "entry_ref",
    "entry_to_pure",
    "investigation_get_for_user",
    "investigations_open_for_user",
    "ledger_stock_for_user",
    "ledger_verify",
    "ledger_view_require",
    "ml_quantize",
    "session_draw_states",
    "session_draws",
    "session_ledger_problems",
]
