"""URLs and bodies for the ledger's rows in tests/test_url_matrix.py (built per test database)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import services
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Investigation,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.tests.conftest import (
    SUPPLIER_DEA,
    location_make,
    receive,
    session_make,
    witness,
    witness_fields,
)
from ketaclinic.testing import Clinic


def location(c: Clinic) -> RegisteredLocation:
    found = RegisteredLocation.objects.order_by("pk").first()
    return found or location_make(c)


def vial(c: Clinic) -> Container:
    loc = location(c)
    found = Container.objects.filter(location=loc).order_by("pk").first()
    return found or receive(c, loc)[0]


def session(c: Clinic) -> Session:
    found = Session.objects.filter(course__patient=c.pat).order_by("start").first()
    return found or session_make(c)


def draw(c: Clinic) -> LedgerEntry:
    found = LedgerEntry.objects.filter(kind=EntryKind.DRAW).order_by("seq").first()
    if found is not None:
        return found
    return services.ledger_draw(
        acting_user=c.users["ben"], container=vial(c), session=session(c), ml=Decimal("5")
    )


def cabinet(c: Clinic) -> StorageLocation:
    loc = location(c)
    found, _ = StorageLocation.objects.get_or_create(
        location=loc, name="Matrix cabinet", defaults={"kind": "cabinet"}
    )
    return found


def quarantined_vial_url(c: Clinic) -> str:
    container = vial(c)
    services.ledger_quarantine(acting_user=c.users["dana"], container=container, reason="matrix")
    return f"/api/v1/ledger/containers/{container.pk}/release"


def investigation_url(c: Clinic) -> str:
    container = vial(c)
    _, (investigation,) = services.ledger_count(
        acting_user=c.users["dana"],
        location=location(c),
        kind="daily",
        lines=[services.CountLine(container, Decimal("0"))],
    )
    assert isinstance(investigation, Investigation)
    return f"/api/v1/ledger/investigations/{investigation.pk}/resolve"


def location_body(_: Clinic) -> dict[str, Any]:
    return {
        "name": "Matrix location",
        "registrant_name": "Dr Ada Example",
        "address": "1 Example Street",
        "dea_number": "AB1234563",
        "dea_expiry": "2030-01-31",
    }


def receipt_body(c: Clinic) -> dict[str, Any]:
    return {
        "location": location(c).pk,
        "product_name": "Ketamine HCl injection",
        "ndc": "0409-2051-05",
        "form": "injection, solution",
        "concentration_mg_per_ml": 50,
        "container_volume_ml": 10,
        "lot": "MATRIX",
        "expiry": "2099-12-31",
        "containers": 1,
        "supplier": {"name": "Supplier", "address": "Road 9", "dea_number": SUPPLIER_DEA},
        "reference": "INV-M",
        "received_at": "2026-01-05T09:30:00+01:00",
    }


def draw_body(c: Clinic) -> dict[str, Any]:
    return {"session": str(session(c).pk), "volume_ml": "1"}


def waste_body(c: Clinic) -> dict[str, Any]:
    return {"volume_ml": "0.5", "method": "disposal container"} | witness_fields(c, "ada")


def return_body(_: Clinic) -> dict[str, Any]:
    return {
        "volume_ml": "0.5",
        "distributor": {"name": "Reverse Co", "address": "3 Lane", "dea_number": SUPPLIER_DEA},
        "reference": "RA-M",
    }


def destruction_body(c: Clinic) -> dict[str, Any]:
    creds = [witness(c, "ada"), witness(c, "ben")]
    return {
        "volume_ml": "0.5",
        "method": "denaturing kit",
        "place": "Pharmacy room",
        "witnesses": [
            {"username": w.username, "password": w.password, "otp": w.otp} for w in creds
        ],
    }


def breakage_body(c: Clinic) -> dict[str, Any]:
    return {"volume_ml": "0.5", "description": "dropped"} | witness_fields(c, "ada")


def loss_body(_: Clinic) -> dict[str, Any]:
    return {
        "volume_ml": "0.5",
        "kind": "significant_loss",
        "discovered_on": "2026-11-20",
        "description": "short",
    }


def count_body(c: Clinic) -> dict[str, Any]:
    return {
        "location": location(c).pk,
        "kind": "shift",
        "lines": [{"container": vial(c).pk, "counted_ml": "10"}],
    }


def inventory_body(c: Clinic) -> dict[str, Any]:
    return {
        "location": location(c).pk,
        "kind": "initial",
        "taken_on": "2026-11-24",
        "business_time": "opening",
        "lines": [{"container": vial(c).pk, "counted_ml": "10"}],
    }


# --- pages -----------------------------------------------------------------------------------


def page_url(path: str) -> Callable[[Clinic], str]:
    """A ledger page's URL, with `{vial}`, `{draw}` or `{location}` filled in."""

    def build(c: Clinic) -> str:
        fields: dict[str, Any] = {}
        if "{vial}" in path:
            fields["vial"] = vial(c).pk
        if "{draw}" in path:
            fields["draw"] = draw(c).pk
        if "{location}" in path:
            fields["location"] = location(c).pk
        return "/ledger/" + path.format(**fields)

    return build


def investigation_page_url(c: Clinic) -> str:
    return investigation_url(c).replace("/api/v1/ledger/", "/ledger/") + "/"
