"""The ketamine ledger's JSON API under /api/v1/ledger/. Ids are taken as text and parsed by
the selectors, so that a malformed id answers the same JSON 404 as an unknown one. The ledger's
refusals (a draw larger than the balance, an expired or quarantined container) answer 409."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Status

from ketaclinic.accounts.access import require, user_can
from ketaclinic.api.auth import BearerTokenAuth, VerifiedSessionAuth
from ketaclinic.api.errors import json_response
from ketaclinic.infusions.models import Session
from ketaclinic.ledger import deadlines, reports, selectors, services
from ketaclinic.ledger.entries import LedgerRefused
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Inventory,
    Investigation,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.schemas import (
    BreakageIn,
    ContainerOut,
    ContainerSummaryOut,
    CorrectionIn,
    CountIn,
    CountOut,
    CreatedOut,
    DestructionIn,
    DrawIn,
    EntryOut,
    InventoryIn,
    InventoryOut,
    InvestigationOut,
    LocationIn,
    LocationOut,
    LossIn,
    LossOut,
    ReasonIn,
    ReceiptIn,
    ReceiptOut,
    ReconciliationOut,
    ResolveIn,
    ReturnIn,
    StorageIn,
    TransferIn,
    WasteIn,
    WitnessPolicyIn,
)

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


# --- locations -------------------------------------------------------------------------------


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


# --- receipts and containers -----------------------------------------------------------------


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


# --- movements -------------------------------------------------------------------------------


@router.post(
    "/containers/{container_id}/draws",
    response={201: CreatedOut},
    url_name="ledger_container_draws",
)
def draw_create(request: HttpRequest, container_id: str, payload: DrawIn) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.draw"
    )
    session = Session.objects.select_related("course").filter(pk=payload.session).first()
    if session is None:
        raise ValidationError({"session": ["No such session."]})
    row = services.ledger_draw(
        acting_user=request.user, container=container, session=session, ml=payload.volume_ml
    )
    return Status(201, {"id": row.pk})


def _witness(
    request: HttpRequest, username: str, password: str, otp: str
) -> services.WitnessCredentials | None:
    if not username and not password and not otp:
        return None
    return services.WitnessCredentials(
        username=username, password=password, otp=otp, request=request
    )


@router.post("/draws/{draw_id}/waste", response={201: CreatedOut}, url_name="ledger_draw_waste")
def waste_create(request: HttpRequest, draw_id: str, payload: WasteIn) -> Status[dict[str, int]]:
    draw = selectors.entry_get_for_user(
        request.user, draw_id, permission="ledger.waste", kind=EntryKind.DRAW
    )
    row = services.ledger_waste(
        acting_user=request.user,
        draw=draw,
        ml=payload.volume_ml,
        method=payload.method,
        witness=_witness(
            request, payload.witness_username, payload.witness_password, payload.witness_otp
        ),
    )
    return Status(201, {"id": row.pk})


@router.post(
    "/containers/{container_id}/transfers",
    response={201: CreatedOut},
    url_name="ledger_container_transfers",
)
def transfer_create(
    request: HttpRequest, container_id: str, payload: TransferIn
) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.manage"
    )
    storage = _field_object(StorageLocation, payload.to_storage, "to_storage")
    row = services.ledger_transfer(
        acting_user=request.user, container=container, to_storage=storage, reason=payload.reason
    )
    return Status(201, {"id": row.pk})


@router.post(
    "/containers/{container_id}/returns",
    response={201: CreatedOut},
    url_name="ledger_container_returns",
)
def return_create(
    request: HttpRequest, container_id: str, payload: ReturnIn
) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.manage"
    )
    row = services.ledger_return(
        acting_user=request.user,
        container=container,
        ml=payload.volume_ml,
        distributor_name=payload.distributor.name,
        distributor_address=payload.distributor.address,
        distributor_dea_number=payload.distributor.dea_number,
        reference=payload.reference,
    )
    return Status(201, {"id": row.pk})


@router.post(
    "/containers/{container_id}/destructions",
    response={201: CreatedOut},
    url_name="ledger_container_destructions",
)
def destruction_create(
    request: HttpRequest, container_id: str, payload: DestructionIn
) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.manage"
    )
    row = services.ledger_destroy(
        acting_user=request.user,
        container=container,
        ml=payload.volume_ml,
        method=payload.method,
        place=payload.place,
        witnesses=[
            services.WitnessCredentials(w.username, w.password, w.otp, request=request)
            for w in payload.witnesses
        ],
    )
    return Status(201, {"id": row.pk})


def _draw_of(container: Container, draw_id: int | None) -> LedgerEntry | None:
    if draw_id is None:
        return None
    return _field_object(LedgerEntry, draw_id, "draw", kind=EntryKind.DRAW, container=container)  # type: ignore[no-any-return]


@router.post(
    "/containers/{container_id}/breakages",
    response={201: CreatedOut},
    url_name="ledger_container_breakages",
)
def breakage_create(
    request: HttpRequest, container_id: str, payload: BreakageIn
) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.breakage"
    )
    row = services.ledger_breakage(
        acting_user=request.user,
        container=container,
        ml=payload.volume_ml,
        description=payload.description,
        draw=_draw_of(container, payload.draw),
        witness=_witness(
            request, payload.witness_username, payload.witness_password, payload.witness_otp
        ),
    )
    return Status(201, {"id": row.pk})


@router.post(
    "/containers/{container_id}/losses",
    response={201: LossOut},
    url_name="ledger_container_losses",
)
def loss_create(request: HttpRequest, container_id: str, payload: LossIn) -> Status[dict[str, Any]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.manage"
    )
    row = services.ledger_loss(
        acting_user=request.user,
        container=container,
        ml=payload.volume_ml,
        kind=payload.kind,
        discovered_on=payload.discovered_on,
        description=payload.description,
        draw=_draw_of(container, payload.draw),
    )
    return Status(
        201,
        {
            "id": row.pk,
            "notice_due": date.fromisoformat(row.details["notice_due"]),
            "form_106_due": date.fromisoformat(row.details["form_106_due"]),
        },
    )


@router.post(
    "/containers/{container_id}/quarantine",
    response={201: CreatedOut},
    url_name="ledger_container_quarantine",
)
def quarantine_create(
    request: HttpRequest, container_id: str, payload: ReasonIn
) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.manage"
    )
    row = services.ledger_quarantine(
        acting_user=request.user, container=container, reason=payload.reason
    )
    return Status(201, {"id": row.pk})


@router.post(
    "/containers/{container_id}/release",
    response={201: CreatedOut},
    url_name="ledger_container_release",
)
def quarantine_release(
    request: HttpRequest, container_id: str, payload: ReasonIn
) -> Status[dict[str, int]]:
    container = selectors.container_get_for_user(
        request.user, container_id, permission="ledger.manage"
    )
    row = services.ledger_quarantine(
        acting_user=request.user, container=container, reason=payload.reason, release=True
    )
    return Status(201, {"id": row.pk})


@router.post(
    "/entries/{entry_id}/corrections",
    response={201: CreatedOut},
    url_name="ledger_entry_corrections",
)
def correction_create(
    request: HttpRequest, entry_id: str, payload: CorrectionIn
) -> Status[dict[str, int]]:
    entry = selectors.entry_get_for_user(request.user, entry_id, permission="ledger.manage")
    row = services.ledger_correct(
        acting_user=request.user, entry=entry, ml=payload.volume_ml, reason=payload.reason
    )
    return Status(201, {"id": row.pk})


@router.get("/entries/{entry_id}", response=EntryOut, url_name="ledger_entry")
def entry_get(request: HttpRequest, entry_id: str) -> dict[str, Any]:
    entry = selectors.entry_get_for_user(request.user, entry_id, permission="ledger.view")
    return _entry_out(entry)


# --- counts, investigations, inventories -----------------------------------------------------


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


# --- reports ---------------------------------------------------------------------------------


@router.get("/reports/dispensing", url_name="ledger_report_dispensing")
def dispensing_report(
    request: HttpRequest, location: str, start: date, end: date
) -> dict[str, Any]:
    loc = _location(request.user, location, permission="ledger.report")
    record = reports.dispensing_record(acting_user=request.user, location=loc, start=start, end=end)
    return reports.dispensing_json(record)


@router.get(
    "/reports/reconciliation",
    response=list[ReconciliationOut],
    url_name="ledger_report_reconciliation",
)
def reconciliation_report(request: HttpRequest, start: date, end: date) -> list[dict[str, Any]]:
    rows = reports.reconciliation_report(acting_user=request.user, start=start, end=end)
    return [{"session": r.session.pk, "problems": r.problems} for r in rows]
