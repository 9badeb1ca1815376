"""Movements of ketamine: draws, waste, transfers, returns, destruction, breakage, loss,
quarantine, corrections; and one entry."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Status

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import selectors, services
from ketaclinic.ledger.api.containers import _entry_out
from ketaclinic.ledger.api.core import _field_object, router
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry, StorageLocation
from ketaclinic.ledger.schemas import (
    BreakageIn,
    CorrectionIn,
    CreatedOut,
    DestructionIn,
    DrawIn,
    EntryOut,
    LossIn,
    LossOut,
    ReasonIn,
    ReturnIn,
    TransferIn,
    WasteIn,
)


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
