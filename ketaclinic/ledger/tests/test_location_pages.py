"""The administrator registers a ledger location and adds a safe from the pages (no API)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.ledger.models import RegisteredLocation, StorageLocation
from ketaclinic.testing import Clinic


def test_the_administrator_registers_a_location_and_adds_a_safe(clinic: Clinic) -> None:
    client = clinic.client("dana")
    assert client.get("/ledger/locations/").status_code == 200
    bad = client.post("/ledger/locations/", {"name": "Main", "dea_number": "XX"})
    assert bad.status_code == 422
    created = client.post(
        "/ledger/locations/",
        {
            "name": "Main clinic",
            "registrant_name": "Example Clinic LLC",
            "address": "1 Example Street",
            "dea_number": "AB1234563",
            "dea_expiry": "2028-06-30",
            "waste_witness_required": "on",
        },
    )
    assert created.status_code == 302, created.content
    location = RegisteredLocation.objects.get()
    assert location.dea_expiry == date(2028, 6, 30) and location.waste_witness_required
    added = client.post(
        f"/ledger/locations/{location.pk}/storage/", {"name": "Cabinet B", "kind": "cabinet"}
    )
    assert added.status_code == 302
    assert sorted(StorageLocation.objects.values_list("name", flat=True)) == ["Cabinet B", "Safe"]
    policy = client.post(f"/ledger/locations/{location.pk}/witness-policy/", {})
    assert policy.status_code == 302
    location.refresh_from_db()
    assert not location.waste_witness_required
    assert AuditEvent.objects.filter(object_type="StorageLocation").count() == 1
    assert clinic.client("ben").get("/ledger/locations/").status_code == 403


def test_the_receipt_form_offers_whole_minutes(clinic: Clinic) -> None:
    from ketaclinic.ledger.tests.conftest import location_make

    location_make(clinic)
    page = clinic.client("dana").get("/ledger/receipts/new/").content.decode()
    field = re.search(r'<input[^>]*name="received_at"[^>]*>', page)
    assert field is not None
    assert 'step="60"' in field.group(0)
    value = re.search(r'value="([^"]+)"', field.group(0))
    assert value is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value.group(1))


def test_container_history_shows_when_the_receipt_was_received(clinic: Clinic) -> None:
    from ketaclinic.ledger.models import Container, Receipt
    from ketaclinic.ledger.tests.conftest import location_make, receive

    (vial,) = receive(clinic, location_make(clinic))
    received = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    Receipt.objects.filter(pk=vial.receipt_id).update(received_at=received)
    container = Container.objects.get(pk=vial.pk)
    page = clinic.client("dana").get(f"/ledger/containers/{container.pk}/").content.decode()
    local = timezone.localtime(received)
    assert f"{local:%Y-%m-%d %H:%M}<br><small>received; recorded" in page
