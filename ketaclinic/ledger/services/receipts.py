"""Receipts: a delivery into the ledger, one container per vial."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.ledger.entries import ZERO
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Receipt,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.selectors import ml_quantize
from ketaclinic.ledger.services.core import _append, _audit, _dea_check, _Pending, _positive_ml


@transaction.atomic
def ledger_receive(
    *,
    acting_user: Any,
    location: RegisteredLocation,
    product_name: str,
    ndc: str,
    form: str,
    concentration_mg_per_ml: Decimal,
    container_volume_ml: Decimal,
    lot: str,
    expiry: date,
    containers: int,
    supplier_name: str,
    supplier_address: str,
    supplier_dea_number: str,
    reference: str,
    received_at: datetime,
    storage: StorageLocation | None = None,
) -> tuple[Receipt, list[Container]]:
    """A delivery: one container per vial, each received into the ledger with its own entry."""
    require(acting_user, "ledger.manage")
    number = _dea_check(supplier_dea_number, "supplier.dea_number")
    volume = _positive_ml(container_volume_ml, "container_volume_ml")
    if (
        not concentration_mg_per_ml.is_finite()
        or concentration_mg_per_ml <= ZERO
        or ml_quantize(concentration_mg_per_ml) != concentration_mg_per_ml
    ):
        raise ValidationError(
            {"concentration_mg_per_ml": ["More than 0 mg/mL, with at most 4 decimal places."]}
        )
    if containers < 1:
        raise ValidationError({"containers": ["At least one container."]})
    if storage is None:
        storage = StorageLocation.objects.filter(location=location).order_by("pk").first()
        if storage is None:
            raise ValidationError({"storage": ["Add a storage location (a safe) first."]})
    elif storage.location_id != location.pk:
        raise ValidationError({"storage": ["That storage location is in another location."]})
    receipt = Receipt(
        location=location,
        storage=storage,
        product_name=product_name,
        ndc=ndc,
        form=form,
        concentration_mg_per_ml=concentration_mg_per_ml,
        container_volume_ml=volume,
        lot=lot,
        expiry=expiry,
        containers_count=containers,
        supplier_name=supplier_name,
        supplier_address=supplier_address,
        supplier_dea_number=number,
        reference=reference,
        received_at=received_at,
        received_by=acting_user,
    )
    receipt.full_clean()
    receipt.save()
    vials = [
        Container.objects.create(
            receipt=receipt,
            location=location,
            number=n,
            mg_per_ml=concentration_mg_per_ml,
            nominal_ml=volume,
            expires_on=expiry,
            ndc=ndc,
            lot=lot,
        )
        for n in range(1, containers + 1)
    ]
    _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=vial,
                kind=EntryKind.RECEIPT,
                ml=volume,
                storage=storage,
                details={"receipt": receipt.pk},
            )
            for vial in vials
        ],
    )
    _audit(acting_user, Action.CREATE, "LedgerReceipt", [(receipt.pk, None)])
    return receipt, vials
