"""The administrator's day: ketamine stock, counts due, DEA registrations about to expire,
failed sign-ins, and when the audit trail and the ledger were last verified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from axes.models import AccessAttempt
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery, Window
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.ledger.deadlines import biennial_inventory_due
from ketaclinic.ledger.models import (
    CountKind,
    Inventory,
    Investigation,
    InvestigationStatus,
    RegisteredLocation,
    StockCount,
)
from ketaclinic.ledger.selectors.pages import ledger_stock_for_user
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.today.models import ChainCheck, ChainKind

DEA_WARNING_DAYS = 60
"""A registration expiring within this many days is shown, so that its renewal starts in
time. A working margin chosen here, not a regulatory number."""
FAILED_LOGIN_HOURS = 24
FAILED_LOGINS_SHOWN = 10


@dataclass
class LocationDay:
    location: RegisteredLocation
    ml: Decimal
    mg: Decimal
    sealed: int
    opened: int
    quarantined: int
    expired: int
    last_daily_count: datetime | None
    daily_count_due: bool
    biennial_due: date | None
    dea_days_left: int

    @property
    def dea_expiring(self) -> bool:
        return self.dea_days_left <= DEA_WARNING_DAYS


@dataclass
class AdminDay:
    today: date
    locations: list[LocationDay]
    investigations_open: int
    failed_logins: list[AccessAttempt]
    failed_login_count: int
    audit_check: ChainCheck | None
    ledger_check: ChainCheck | None

    @property
    def counts_due(self) -> list[LocationDay]:
        return [row for row in self.locations if row.daily_count_due]

    @property
    def dea_expiring(self) -> list[LocationDay]:
        return [row for row in self.locations if row.dea_expiring]


def _latest(kind: ChainKind) -> Subquery:
    return Subquery(
        ChainCheck.objects.filter(kind=kind).order_by("-checked_at", "-pk").values("pk")[:1]
    )


# The page's reads, each compiled once per process (lib/compiled_read.py).
_CHECKS = CompiledRead(
    # The latest check of the audit trail and of the ledger, in one query.
    lambda: ChainCheck.objects.filter(
        Q(pk=_latest(ChainKind.AUDIT)) | Q(pk=_latest(ChainKind.LEDGER))
    ).order_by()
)
_LOCATIONS = CompiledRead(
    lambda: RegisteredLocation.objects.annotate(
        last_daily=Subquery(
            StockCount.objects.filter(location=OuterRef("pk"), kind=CountKind.DAILY)
            .order_by("-at")
            .values("at")[:1]
        ),
        # The clinic's open investigations ride along on each row (one query less).
        open_investigations=Subquery(
            Investigation.objects.filter(status=InvestigationStatus.OPEN)
            .order_by()
            .values("status")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        last_inventory=Subquery(
            Inventory.objects.filter(location=OuterRef("pk"))
            .order_by("-taken_on")
            .values("taken_on")[:1]
        ),
    ).order_by("name", "pk")
)
_FAILED = CompiledRead(
    # The last ten failed sign-ins and how many there were in all, in one query (a window
    # count rides along on each row).
    lambda: (
        AccessAttempt.objects.filter(attempt_time__gte=Slot("since", models.DateTimeField()))
        .annotate(in_all=Window(Count("pk")))
        .order_by("-attempt_time")[:FAILED_LOGINS_SHOWN]
    )
)


def _latest_checks() -> dict[str, ChainCheck]:
    """The latest check of the audit trail and of the ledger, in one query."""
    return {row.kind: row for row in _CHECKS.objects()}


def admin_day_for_user(user: Any, *, now: datetime | None = None) -> AdminDay:
    require(user, "audit.view")
    require(user, "ledger.view")
    now = now or timezone.now()
    today = timezone.localdate(now)
    locations: list[RegisteredLocation] = _LOCATIONS.objects()
    stock = {
        row.location.pk: row
        # The day shows the counts and what is on the shelves, not the list of empty containers:
        # the finished ones are counted, none replayed.
        for row in ledger_stock_for_user(user, today=today, locations=locations, empties=False)
    }
    rows = []
    for location in locations:
        held = stock.get(location.pk)
        storages = held.storages if held else []
        containers = [line for storage in storages for line in storage.containers]
        last_daily: datetime | None = getattr(location, "last_daily", None)
        last_inventory: date | None = getattr(location, "last_inventory", None)
        rows.append(
            LocationDay(
                location=location,
                ml=sum((s.ml for s in storages), Decimal(0)),
                mg=sum((s.mg for s in storages), Decimal(0)),
                sealed=held.status_counts.get("sealed", 0) if held else 0,
                opened=held.status_counts.get("open", 0) if held else 0,
                quarantined=held.status_counts.get("quarantined", 0) if held else 0,
                expired=sum(1 for line in containers if line.expired),
                last_daily_count=last_daily,
                daily_count_due=last_daily is None or timezone.localdate(last_daily) < today,
                biennial_due=biennial_inventory_due(last_inventory) if last_inventory else None,
                dea_days_left=(location.dea_expiry - today).days,
            )
        )
    since = now - timedelta(hours=FAILED_LOGIN_HOURS)
    failed: list[AccessAttempt] = _FAILED.objects(since=since)
    checks = _latest_checks()
    return AdminDay(
        today=today,
        locations=rows,
        investigations_open=(
            int(getattr(locations[0], "open_investigations", None) or 0)
            if locations
            else Investigation.objects.filter(status=InvestigationStatus.OPEN).count()
        ),
        failed_logins=failed,
        failed_login_count=int(getattr(failed[0], "in_all", 0)) if failed else 0,
        audit_check=checks.get(ChainKind.AUDIT),
        ledger_check=checks.get(ChainKind.LEDGER),
    )
