"""Counts, the investigations their discrepancies open, and inventories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.ledger.arithmetic import count_discrepancy
from ketaclinic.ledger.entries import ZERO, LedgerRefused
from ketaclinic.ledger.models import (
    BusinessTime,
    Container,
    CountKind,
    EntryKind,
    Inventory,
    InventoryKind,
    Investigation,
    InvestigationStatus,
    LedgerEntry,
    RegisteredLocation,
    StockCount,
)
from ketaclinic.ledger.selectors import container_ledger, entry_ref, ml_quantize
from ketaclinic.ledger.services.core import _append, _audit, _containers_locked, _Pending
from ketaclinic.lib.hashchain import digest


@dataclass(frozen=True)
class CountLine:
    container: Container
    counted_ml: Decimal
    estimated: bool = False


@transaction.atomic
def ledger_count(
    *,
    acting_user: Any,
    location: RegisteredLocation,
    kind: str,
    lines: Sequence[CountLine],
) -> tuple[StockCount, list[Investigation]]:
    """A shift or daily count: expected versus counted per container; every discrepancy
    opens an investigation."""
    require(acting_user, "ledger.manage")
    if kind not in CountKind.values:
        raise ValidationError({"kind": [f"One of {', '.join(CountKind.values)}."]})
    if not lines:
        raise ValidationError({"lines": ["Count at least one container."]})
    count = StockCount.objects.create(location=location, kind=kind, counted_by=acting_user)
    rows, discrepancies = _count_entries(acting_user, location, lines, {"count": count.pk})
    investigations = []
    for row, (expected, counted) in zip(rows, discrepancies, strict=True):
        if count_discrepancy(expected, counted).is_match:
            continue
        investigations.append(
            Investigation.objects.create(count_entry=row, expected_ml=expected, counted_ml=counted)
        )
    _audit(acting_user, Action.CREATE, "StockCount", [(count.pk, None)])
    if investigations:
        _audit(acting_user, Action.CREATE, "Investigation", [(i.pk, None) for i in investigations])
    return count, investigations


def _count_entries(
    acting_user: Any,
    location: RegisteredLocation,
    lines: Sequence[CountLine],
    extra: dict[str, Any],
) -> tuple[list[LedgerEntry], list[tuple[Decimal, Decimal]]]:
    seen: set[int] = set()
    for n, line in enumerate(lines):
        if line.container.location_id != location.pk:
            raise ValidationError({f"lines.{n}.container": ["Not in this location."]})
        if line.container.pk in seen:
            raise ValidationError({f"lines.{n}.container": ["Counted twice."]})
        seen.add(line.container.pk)
        if line.counted_ml < ZERO or ml_quantize(line.counted_ml) != line.counted_ml:
            raise ValidationError(
                {f"lines.{n}.counted_ml": ["0 mL or more, with at most 4 decimal places."]}
            )
    _containers_locked([line.container.pk for line in lines])
    pending = []
    figures = []
    for n, line in enumerate(lines):
        current = container_ledger(line.container).current
        expected = current.in_container_ml
        if line.estimated and expected == current.container.nominal_ml:
            raise ValidationError(
                {
                    f"lines.{n}.estimated": [
                        "Only opened containers may be estimated; count unopened ones exactly."
                    ]
                }
            )
        figures.append((expected, line.counted_ml))
        pending.append(
            _Pending(
                container=line.container,
                kind=EntryKind.COUNT,
                details={
                    **extra,
                    "expected_ml": str(expected),
                    "counted_ml": str(line.counted_ml),
                    "estimated": line.estimated,
                },
            )
        )
    return _append(acting_user=acting_user, pending=pending), figures


@transaction.atomic
def investigation_resolve(
    *, acting_user: Any, investigation: Investigation, resolution: str
) -> Investigation:
    require(acting_user, "ledger.manage")
    if investigation.status == InvestigationStatus.RESOLVED:
        raise LedgerRefused("This investigation is already resolved.")
    if not resolution.strip():
        raise ValidationError({"resolution": ["Say what was found."]})
    investigation.status = InvestigationStatus.RESOLVED
    investigation.resolution = resolution.strip()
    investigation.resolved_by = acting_user
    investigation.resolved_at = timezone.now()
    investigation.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    _audit(acting_user, Action.UPDATE, "Investigation", [(investigation.pk, None)])
    return investigation


@transaction.atomic
def ledger_inventory_take(
    *,
    acting_user: Any,
    location: RegisteredLocation,
    kind: str,
    taken_on: date,
    business_time: str,
    lines: Sequence[CountLine],
) -> Inventory:
    """The initial or biennial inventory (21 CFR 1304.11): every container on hand, exact or
    (opened containers only) estimated, at opening or close of business, signed by the caller.
    """
    require(acting_user, "ledger.manage")
    if kind not in InventoryKind.values:
        raise ValidationError({"kind": [f"One of {', '.join(InventoryKind.values)}."]})
    if business_time not in BusinessTime.values:
        raise ValidationError({"business_time": [f"One of {', '.join(BusinessTime.values)}."]})
    if (
        kind == InventoryKind.INITIAL
        and Inventory.objects.filter(location=location, kind=InventoryKind.INITIAL).exists()
    ):
        raise LedgerRefused("This location already has its initial inventory.")
    counted = {line.container.pk for line in lines}
    missing = [
        c.pk
        # A finished container holds nothing (ContainerFinished, kept with its entries).
        for c in Container.objects.filter(location=location, finished__isnull=True).order_by("pk")
        if c.pk not in counted and container_ledger(c).current.on_hand_ml > ZERO
    ]
    if missing:
        raise ValidationError(
            {"lines": [f"Containers on hand not in the inventory: {', '.join(map(str, missing))}."]}
        )
    inventory = Inventory(
        location=location,
        kind=kind,
        taken_on=taken_on,
        business_time=business_time,
        signed_by=acting_user,
    )
    rows: list[LedgerEntry] = []
    figures: list[tuple[Decimal, Decimal]] = []
    if lines:
        inventory.digest = "pending"
        inventory.save()
        rows, figures = _count_entries(acting_user, location, lines, {"inventory": inventory.pk})
    frozen = [
        {
            "container": line.container.pk,
            "ndc": line.container.ndc,
            "lot": line.container.lot,
            "strength_mg_per_ml": str(line.container.mg_per_ml),
            "container_ml": str(line.container.nominal_ml),
            "expected_ml": str(expected),
            "counted_ml": str(counted_ml),
            "estimated": line.estimated,
            "entry": entry_ref(row.seq),
        }
        for line, row, (expected, counted_ml) in zip(lines, rows, figures, strict=True)
    ]
    inventory.lines = frozen
    inventory.digest = digest(
        {
            "location": location.pk,
            "dea_number": location.dea_number,
            "kind": kind,
            "taken_on": taken_on.isoformat(),
            "business_time": business_time,
            "signed_by": acting_user.pk,
            "lines": frozen,
        }
    )
    inventory.save()
    _audit(acting_user, Action.EXECUTE, "Inventory", [(inventory.pk, None)])
    return inventory
