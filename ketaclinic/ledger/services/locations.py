"""DEA-registered locations, their storage locations and their waste-witness policy."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.ledger.models import RegisteredLocation, StorageKind, StorageLocation
from ketaclinic.ledger.services.core import _audit, _dea_check

DEFAULT_STORAGE_NAME = "Safe"


@transaction.atomic
def location_register(
    *,
    acting_user: Any,
    name: str,
    registrant_name: str,
    address: str,
    dea_number: str,
    dea_expiry: date,
    waste_witness_required: bool = True,
) -> RegisteredLocation:
    """A DEA-registered location, with a default storage location (its safe)."""
    require(acting_user, "ledger.manage")
    number = _dea_check(dea_number, "dea_number")
    location = RegisteredLocation(
        name=name,
        registrant_name=registrant_name,
        address=address,
        dea_number=number,
        dea_expiry=dea_expiry,
        waste_witness_required=waste_witness_required,
        created_by=acting_user,
    )
    location.full_clean()
    location.save()
    StorageLocation.objects.create(
        location=location, name=DEFAULT_STORAGE_NAME, kind=StorageKind.SAFE
    )
    _audit(acting_user, Action.CREATE, "RegisteredLocation", [(location.pk, None)])
    return location


@transaction.atomic
def location_witness_policy_set(
    *, acting_user: Any, location: RegisteredLocation, waste_witness_required: bool
) -> RegisteredLocation:
    require(acting_user, "ledger.manage")
    location.waste_witness_required = waste_witness_required
    location.save(update_fields=["waste_witness_required"])
    _audit(acting_user, Action.UPDATE, "RegisteredLocation", [(location.pk, None)])
    return location


@transaction.atomic
def storage_location_create(
    *, acting_user: Any, location: RegisteredLocation, name: str, kind: str
) -> StorageLocation:
    require(acting_user, "ledger.manage")
    storage = StorageLocation(location=location, name=name, kind=kind)
    storage.full_clean()
    storage.save()
    _audit(acting_user, Action.CREATE, "StorageLocation", [(storage.pk, None)])
    return storage
