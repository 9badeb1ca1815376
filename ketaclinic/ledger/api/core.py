"""The ledger router, its authentication (a signed-in user with no ledger right is refused before
the body is read), the 409 for the ledger's refusals, and helpers shared by the routes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketaclinic.accounts.access import require, user_can
from ketaclinic.api.auth import BearerTokenAuth, VerifiedSessionAuth
from ketaclinic.api.errors import json_response
from ketaclinic.ledger.entries import LedgerRefused
from ketaclinic.ledger.models import LedgerEntry, RegisteredLocation, StorageLocation

LEDGER_PERMISSIONS = (
    "ledger.view",
    "ledger.draw",
    "ledger.waste",
    "ledger.witness",
    "ledger.breakage",
    "ledger.manage",
    "ledger.report",
)


def _ledger_user(user: Any) -> Any:
    """Refuse (403) a signed-in user with no ledger right at all, before the body is read, so
    that patients and intake get the same answer from every ledger URL whatever they send."""
    if user is not None and not any(user_can(user, p) for p in LEDGER_PERMISSIONS):
        raise PermissionDenied("ledger")
    return user


class _LedgerBearerAuth(BearerTokenAuth):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return _ledger_user(super().authenticate(request, token))


class _LedgerSessionAuth(VerifiedSessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _ledger_user(super().authenticate(request, key))


router = Router(tags=["ledger"], auth=[_LedgerBearerAuth(), _LedgerSessionAuth()])


def ledger_refused(request: HttpRequest, exc: LedgerRefused) -> HttpResponse:
    """409 with the reason; ``ketaclinic.api.v1`` answers every LedgerRefused with it."""
    return json_response(request, {"detail": exc.reason}, 409)


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LedgerEntry.DoesNotExist from None


def _location(
    user: Any, location_id: int | str, permission: str = "ledger.manage"
) -> RegisteredLocation:
    require(user, permission)
    return RegisteredLocation.objects.get(pk=_int(str(location_id)))


def _field_object(model: Any, pk: int | None, field: str, **filters: Any) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk, **filters).first()
    if found is None:
        raise ValidationError({field: ["No such record."]})
    return found


def _location_out(location: RegisteredLocation) -> dict[str, Any]:
    return {
        "id": location.pk,
        "name": location.name,
        "registrant_name": location.registrant_name,
        "address": location.address,
        "dea_number": location.dea_number,
        "dea_expiry": location.dea_expiry,
        "waste_witness_required": location.waste_witness_required,
        "storage_locations": [
            {"id": s.pk, "name": s.name, "kind": s.kind}
            for s in StorageLocation.objects.filter(location=location).order_by("pk")
        ],
    }
