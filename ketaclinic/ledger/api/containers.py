"""Receipts of containers, and containers with their ledgers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Status

from ketaclinic.accounts.access import require
from ketaclinic.ledger import selectors, services
from ketaclinic.ledger.api.core import _field_object, router
from ketaclinic.ledger.models import Container, LedgerEntry, RegisteredLocation, StorageLocation
from ketaclinic.ledger.schemas import ContainerOut, ContainerSummaryOut, ReceiptIn, ReceiptOut


@router.post("/receipts", response={201: ReceiptOut}, url_name="ledger_receipts")
def receipt_create(request: HttpRequest, payload: ReceiptIn) -> Status[dict[str, Any]]:
    require(request.user, "ledger.manage")
    location = _field_object(RegisteredLocation, payload.location, "location")
    storage = _field_object(StorageLocation, payload.storage, "storage")
    receipt, vials = services.ledger_receive(
        acting_user=request.user,
        location=location,
        storage=storage,
        product_name=payload.product_name,
        ndc=payload.ndc,
        form=payload.form,
        concentration_mg_per_ml=payload.concentration_mg_per_ml,
        container_volume_ml=payload.container_volume_ml,
        lot=payload.lot,
        expiry=payload.expiry,
        containers=payload.containers,
        supplier_name=payload.supplier.name,
        supplier_address=payload.supplier.address,
        supplier_dea_number=payload.supplier.dea_number,
        reference=payload.reference,
        received_at=payload.received_at,
    )
    return Status(201, {"id": receipt.pk, "containers": [v.pk for v in vials]})


def _entry_out(row: LedgerEntry, seq_by_pk: dict[int, int] | None = None) -> dict[str, Any]:
    def name(user: Any) -> str | None:
        return None if user is None else str(user.username)

    return {
        "id": row.pk,
        "ref": selectors.entry_ref(row.seq),
        "seq": row.seq,
        "kind": row.kind,
        "ml": row.ml,
        "draw": row.draw_id,
        "session": row.session_id,
        "corrects": row.corrects_id,
        "storage": row.storage_id,
        "reason": row.reason,
        "method": row.method,
        "details": row.details,
        "actor": name(row.actor),
        "witness": name(row.witness),
        "second_witness": name(row.second_witness),
        "at": row.at,
        "hash": row.hash,
    }


@router.get("/containers", response=list[ContainerSummaryOut], url_name="ledger_containers")
def containers_list(request: HttpRequest, location: int | None = None) -> list[dict[str, Any]]:
    require(request.user, "ledger.view")
    rows = Container.objects.select_related("receipt").order_by("pk")
    if location is not None:
        rows = rows.filter(location_id=location)
    result = []
    for container in rows[:500]:
        current = selectors.container_ledger(container).current
        result.append(
            {
                "id": container.pk,
                "location": container.location_id,
                "product_name": container.receipt.product_name,
                "lot": container.lot,
                "expires_on": container.expires_on,
                "balance_ml": current.balance.ml,
                "balance_mg": current.balance.mg,
                "quarantined": current.quarantined,
            }
        )
    return result


@router.get("/containers/{container_id}", response=ContainerOut, url_name="ledger_container")
def container_get(request: HttpRequest, container_id: str) -> dict[str, Any]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.view"
    )
    rows = list(
        LedgerEntry.objects.filter(container=container)
        .select_related("actor", "witness", "second_witness")
        .order_by("seq")
    )
    ledger = selectors.container_ledger(container, rows)
    current = ledger.current
    return {
        "id": container.pk,
        "location": container.location_id,
        "receipt": container.receipt_id,
        "product_name": container.receipt.product_name,
        "ndc": container.ndc,
        "lot": container.lot,
        "expires_on": container.expires_on,
        "mg_per_ml": container.mg_per_ml,
        "nominal_ml": container.nominal_ml,
        "storage": int(current.location) if current.location.isdigit() else None,
        "quarantined": current.quarantined,
        "expired": current.is_expired(timezone.localdate()),
        "balance_ml": current.balance.ml,
        "balance_mg": current.balance.mg,
        "on_hand_ml": current.on_hand_ml,
        "totals": {
            "received": current.received,
            "drawn": current.drawn,
            "administered": current.administered,
            "wasted": current.wasted,
            "destroyed": current.destroyed,
            "returned": current.returned,
            "broken": current.broken + current.draw_broken,
            "lost": current.lost + current.draw_lost,
            "open_draws": current.open_draws_ml,
        },
        "history": [_entry_out(row) for row in rows],
    }
