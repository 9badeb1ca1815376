"""Access-checked lookups of containers and entries for the pages and the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from ketaclinic.accounts.access import require, user_can
from ketaclinic.ledger.models import Container, LedgerEntry


def container_get_for_user(user: Any, container_id: int | str, *, permission: str) -> Container:
    """The container, if the user may use the ledger that way; 404 for an unknown id."""
    require(user, permission)
    try:
        pk = int(container_id)
    except (TypeError, ValueError):
        raise Container.DoesNotExist from None
    return Container.objects.select_related("receipt", "location").get(pk=pk)


def entry_get_for_user(
    user: Any, entry_id: int | str, *, permission: str, kind: str | None = None
) -> LedgerEntry:
    require(user, permission)
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        raise LedgerEntry.DoesNotExist from None
    rows = LedgerEntry.objects.select_related("container", "container__location", "session")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows.get(pk=pk)


def ledger_view_require(user: Any) -> None:
    if not user_can(user, "ledger.view"):
        raise PermissionDenied("ledger.view")
