"""The administrator registers a ledger location and adds a safe from the pages (no API)."""

from __future__ import annotations

from datetime import date

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
