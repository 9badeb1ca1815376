"""Counts, the investigations their discrepancies open, and inventories."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Status

from ketaclinic.accounts.access import require
from ketaclinic.ledger import deadlines, services
from ketaclinic.ledger.api.core import _field_object, _int, router
from ketaclinic.ledger.models import Container, Inventory, Investigation, RegisteredLocation
from ketaclinic.ledger.schemas import (
    CountIn,
    CountOut,
    InventoryIn,
    InventoryOut,
    InvestigationOut,
    ResolveIn,
)


def _lines(location: RegisteredLocation, lines: list[Any]) -> list[services.CountLine]:
    result = []
    for n, line in enumerate(lines):
        container = Container.objects.filter(pk=line.container, location=location).first()
        if container is None:
            raise ValidationError({f"lines.{n}.container": ["No such container here."]})
        result.append(services.CountLine(container, line.counted_ml, line.estimated))
    return result


def _investigation_out(i: Investigation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "container": i.count_entry.container_id,
        "count_entry": i.count_entry_id,
        "expected_ml": i.expected_ml,
        "counted_ml": i.counted_ml,
        "status": i.status,
        "resolution": i.resolution,
        "opened_at": i.opened_at,
        "resolved_at": i.resolved_at,
    }


@router.post("/counts", response={201: CountOut}, url_name="ledger_counts")
def count_create(request: HttpRequest, payload: CountIn) -> Status[dict[str, Any]]:
    require(request.user, "ledger.manage")
    location = _field_object(RegisteredLocation, payload.location, "location")
    count, investigations = services.ledger_count(
        acting_user=request.user,
        location=location,
        kind=payload.kind,
        lines=_lines(location, payload.lines),
    )
    return Status(
        201, {"id": count.pk, "investigations": [_investigation_out(i) for i in investigations]}
    )


@router.get("/investigations", response=list[InvestigationOut], url_name="ledger_investigations")
def investigations_list(request: HttpRequest, status: str = "open") -> list[dict[str, Any]]:
    require(request.user, "ledger.manage")
    rows = Investigation.objects.select_related("count_entry").order_by("-opened_at", "-pk")
    if status != "all":
        rows = rows.filter(status=status)
    return [_investigation_out(i) for i in rows[:500]]


@router.post(
    "/investigations/{investigation_id}/resolve",
    response=InvestigationOut,
    url_name="ledger_investigation_resolve",
)
def investigation_resolve(
    request: HttpRequest, investigation_id: str, payload: ResolveIn
) -> dict[str, Any]:
    require(request.user, "ledger.manage")
    investigation = Investigation.objects.select_related("count_entry").get(
        pk=_int(investigation_id)
    )
    services.investigation_resolve(
        acting_user=request.user, investigation=investigation, resolution=payload.resolution
    )
    return _investigation_out(investigation)


def _inventory_out(inventory: Inventory) -> dict[str, Any]:
    return {
        "id": inventory.pk,
        "location": inventory.location_id,
        "kind": inventory.kind,
        "taken_on": inventory.taken_on,
        "business_time": inventory.business_time,
        "lines": inventory.lines,
        "signed_by": inventory.signed_by.username,
        "signed_at": inventory.signed_at,
        "digest": inventory.digest,
        "retain_until": deadlines.retain_until(inventory.taken_on),
        "next_biennial_due": deadlines.biennial_inventory_due(inventory.taken_on),
    }


@router.post("/inventories", response={201: InventoryOut}, url_name="ledger_inventories")
def inventory_create(request: HttpRequest, payload: InventoryIn) -> Status[dict[str, Any]]:
    require(request.user, "ledger.manage")
    location = _field_object(RegisteredLocation, payload.location, "location")
    inventory = services.ledger_inventory_take(
        acting_user=request.user,
        location=location,
        kind=payload.kind,
        taken_on=payload.taken_on,
        business_time=payload.business_time,
        lines=_lines(location, payload.lines),
    )
    return Status(201, _inventory_out(inventory))


@router.get("/inventories", response=list[InventoryOut], url_name="ledger_inventories")
def inventories_list(request: HttpRequest) -> list[dict[str, Any]]:
    require(request.user, "ledger.manage")
    rows = Inventory.objects.select_related("signed_by").order_by("-taken_on", "-pk")
    return [_inventory_out(i) for i in rows[:200]]
