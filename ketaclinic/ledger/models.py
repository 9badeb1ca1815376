"""The ketamine ledger's rows.

Registered locations (the DEA registration) hold storage locations (safe, cabinet); a receipt
brings containers (one per vial) into a storage location; every movement of a container is one
`LedgerEntry`: append-only, attributed, timestamped and hash-chained (`LedgerChainHead` is
locked by every writer, as the audit trail does). Balances are not stored: they are replayed
from the entries with the pure `ketaclinic.ledger.arithmetic.apply`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class RegisteredLocation(models.Model):
    """A location registered with the DEA: the registrant and its registration."""

    name = models.CharField(max_length=200)
    registrant_name = models.CharField(max_length=200)
    address = models.CharField(max_length=500)
    dea_number = models.CharField(max_length=9)
    dea_expiry = models.DateField()
    waste_witness_required = models.BooleanField(
        default=True,
        help_text="Whether wasting the rest of a draw needs a second staff user as witness "
        "(state or institutional policy; DEA 2014 disposal rule commentary).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.dea_number})"


class StorageKind(models.TextChoices):
    SAFE = "safe", "Safe"
    CABINET = "cabinet", "Locked cabinet"
    OTHER = "other", "Other"


class StorageLocation(models.Model):
    """A safe or locked cabinet within a registered location."""

    location = models.ForeignKey(
        RegisteredLocation, on_delete=models.PROTECT, related_name="storage_locations"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=StorageKind.choices, default=StorageKind.SAFE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="storage_name_per_location")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location.name})"


class Receipt(models.Model):
    """A delivery of ketamine from a supplier: the 21 CFR 1304.22(c) receipt fields."""

    location = models.ForeignKey(RegisteredLocation, on_delete=models.PROTECT, related_name="+")
    storage = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(max_length=200)
    ndc = models.CharField(max_length=20)
    form = models.CharField(max_length=100, help_text="Finished form, e.g. injection solution.")
    concentration_mg_per_ml = models.DecimalField(max_digits=12, decimal_places=4)
    container_volume_ml = models.DecimalField(max_digits=12, decimal_places=4)
    lot = models.CharField(max_length=100)
    expiry = models.DateField()
    containers_count = models.PositiveIntegerField()
    supplier_name = models.CharField(max_length=200)
    supplier_address = models.CharField(max_length=500)
    supplier_dea_number = models.CharField(max_length=9)
    reference = models.CharField(max_length=200, help_text="Invoice or order number.")
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"receipt {self.pk} of {self.containers_count} x {self.product_name}"


class Container(models.Model):
    """One vial as received. Its row never changes; it is locked for every movement."""

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="containers")
    location = models.ForeignKey(
        RegisteredLocation, on_delete=models.PROTECT, related_name="containers"
    )
    number = models.PositiveIntegerField(help_text="1..n within its receipt.")
    mg_per_ml = models.DecimalField(max_digits=12, decimal_places=4)
    nominal_ml = models.DecimalField(max_digits=12, decimal_places=4)
    expires_on = models.DateField()
    ndc = models.CharField(max_length=20)
    lot = models.CharField(max_length=100)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "number"], name="container_number_unique")
        ]

    def __str__(self) -> str:
        return f"container {self.pk} (lot {self.lot})"


class EntryKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    DRAW = "draw", "Draw"
    ADMINISTRATION = "administration", "Administration"
    WASTE = "waste", "Waste"
    TRANSFER = "transfer", "Transfer"
    RETURN = "return", "Return to a reverse distributor"
    DESTRUCTION = "destruction", "On-site destruction (DEA Form 41)"
    BREAKAGE = "breakage", "Breakage or spill"
    LOSS = "loss", "Theft or significant loss (DEA Form 106)"
    COUNT = "count", "Count"
    QUARANTINE = "quarantine", "Quarantine"
    QUARANTINE_RELEASE = "quarantine_release", "Release from quarantine"
    CORRECTION = "correction", "Correction"


class LedgerEntry(models.Model):
    """One thing that happened to a container. Append-only: never updated or deleted.

    `ml` is the entry's volume (positive; signed only for corrections, 0 for entries that
    move nothing). `details` holds the kind's own data (transfer locations, Form 41 and Form
    106 data, count figures, supplier of a return), and is covered by the hash.
    """

    seq = models.BigIntegerField(unique=True, help_text="Position in the ledger's hash chain.")
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    ml = models.DecimalField(max_digits=12, decimal_places=4)
    draw = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="draw_entries"
    )
    session = models.ForeignKey(
        "infusions.Session",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    storage = models.ForeignKey(
        StorageLocation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the container is after this entry (receipts and transfers).",
    )
    reason = models.TextField(max_length=2000, blank=True)
    method = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["container", "seq"]),
            models.Index(fields=["session", "kind"]),
            models.Index(fields=["kind", "at"]),
        ]

    def __str__(self) -> str:
        return f"ledger #{self.seq} {self.kind} container {self.container_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("ledger entries are append-only; record a correction instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("ledger entries are append-only; record a correction instead")


class ContainerFinished(models.Model):
    """A container that is finished: not quarantined, nothing left in it and nothing drawn from
    it still unaccounted for (its replayed state). Kept by the ledger's single append path in
    the same transaction as the entries (a correction that revives the container removes the
    row), so the pages replay only the containers that are not finished; `ledger verify` checks
    the rows against the replay. A row of its own because a container's row never changes."""

    container = models.OneToOneField(
        Container, on_delete=models.PROTECT, primary_key=True, related_name="finished"
    )
    seq = models.BigIntegerField(help_text="The ledger entry that finished the container.")

    def __str__(self) -> str:
        return f"container {self.container_id} finished at #{self.seq}"


class LedgerChainHead(models.Model):
    """The last entry of the ledger's chain. Locked by every writer, so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"ledger chain head at #{self.seq}"


class CountKind(models.TextChoices):
    SHIFT = "shift", "Shift count"
    DAILY = "daily", "Daily count"


class StockCount(models.Model):
    """A shift or daily count of a registered location; one count entry per container."""

    location = models.ForeignKey(RegisteredLocation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=CountKind.choices)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} count {self.pk}"


class InvestigationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Investigation(models.Model):
    """A count discrepancy, open until someone resolves it with a finding."""

    count_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="investigation"
    )
    expected_ml = models.DecimalField(max_digits=12, decimal_places=4)
    counted_ml = models.DecimalField(max_digits=12, decimal_places=4)
    status = models.CharField(
        max_length=16, choices=InvestigationStatus.choices, default=InvestigationStatus.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now)
    resolution = models.TextField(max_length=4000, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return f"investigation {self.pk} ({self.status})"


class InventoryKind(models.TextChoices):
    INITIAL = "initial", "Initial inventory"
    BIENNIAL = "biennial", "Biennial inventory"


class BusinessTime(models.TextChoices):
    OPENING = "opening", "Opening of business"
    CLOSE = "close", "Close of business"


class Inventory(models.Model):
    """An initial or biennial inventory (21 CFR 1304.11), signed: `lines` are frozen with their
    SHA-256 in `digest`. Kept at least 2 years (21 CFR 1304.04): never deleted by the app."""

    location = models.ForeignKey(RegisteredLocation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=InventoryKind.choices)
    taken_on = models.DateField()
    business_time = models.CharField(max_length=16, choices=BusinessTime.choices)
    lines = models.JSONField(default=list)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-taken_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} inventory of {self.taken_on}"
