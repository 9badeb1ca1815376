"""The ketamine ledger's JSON API under /api/v1/ledger/. Ids are taken as text and parsed by
the selectors, so that a malformed id answers the same JSON 404 as an unknown one. The ledger's
refusals (a draw larger than the balance, an expired or quarantined container) answer 409.

One module per part of the ledger, as in `services`: `core` (the router, its authentication and
the shared helpers), `locations`, `containers` (with receipts), `movements`, `counts` (with
investigations and inventories) and `reports`."""

# The route modules register on `router` when imported, in this order: the order of the paths in
# the OpenAPI document.
# isort: off
from ketaclinic.ledger.api.core import router
from ketaclinic.ledger.api import locations, containers, movements, counts, reports  # noqa: F401
# isort: on

__all__ = ["router"]
