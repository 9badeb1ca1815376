"""Registered locations, their storage and their waste-witness policy."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Status

from ketaclinic.accounts.access import require
from ketaclinic.ledger import services
from ketaclinic.ledger.api.core import _location, _location_out, router
from ketaclinic.ledger.models import RegisteredLocation
from ketaclinic.ledger.schemas import (
    CreatedOut,
    LocationIn,
    LocationOut,
    StorageIn,
    WitnessPolicyIn,
)


@router.post("/locations", response={201: LocationOut}, url_name="ledger_locations")
def location_register(request: HttpRequest, payload: LocationIn) -> Status[dict[str, Any]]:
    location = services.location_register(acting_user=request.user, **payload.model_dump())
    return Status(201, _location_out(location))


@router.get("/locations", response=list[LocationOut], url_name="ledger_locations")
def locations_list(request: HttpRequest) -> list[dict[str, Any]]:
    require(request.user, "ledger.view")
    return [_location_out(loc) for loc in RegisteredLocation.objects.order_by("name", "pk")]


@router.post(
    "/locations/{location_id}/storage", response={201: CreatedOut}, url_name="ledger_storage"
)
def storage_create(
    request: HttpRequest, location_id: str, payload: StorageIn
) -> Status[dict[str, int]]:
    location = _location(request.user, location_id)
    storage = services.storage_location_create(
        acting_user=request.user, location=location, name=payload.name, kind=payload.kind
    )
    return Status(201, {"id": storage.pk})


@router.post(
    "/locations/{location_id}/witness-policy",
    response=LocationOut,
    url_name="ledger_witness_policy",
)
def witness_policy_set(
    request: HttpRequest, location_id: str, payload: WitnessPolicyIn
) -> dict[str, Any]:
    location = _location(request.user, location_id)
    services.location_witness_policy_set(
        acting_user=request.user,
        location=location,
        waste_witness_required=payload.waste_witness_required,
    )
    return _location_out(location)
