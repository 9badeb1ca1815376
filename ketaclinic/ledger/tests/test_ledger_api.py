"""The ledger through its API: locations, receipts, draws, waste with witnesses, the other
movements, corrections, counts and inventories."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.infusions.models import Session
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Inventory,
    Investigation,
    LedgerEntry,
    Receipt,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.tests.conftest import (
    CLINIC_DEA,
    SUPPLIER_DEA,
    receive,
    witness_fields,
)
from ketaclinic.testing import PASSWORD, Clinic


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def balance(clinic: Clinic, container: Container) -> Decimal:
    response = clinic.api("dana").get(f"/api/v1/ledger/containers/{container.pk}")
    assert response.status_code == 200, response.content
    return Decimal(response.json()["balance_ml"])


def draw(clinic: Clinic, container: Container, session: Session, ml: str) -> Any:
    return post(
        clinic.api("ben"),
        f"/api/v1/ledger/containers/{container.pk}/draws",
        {"session": str(session.pk), "volume_ml": ml},
    )


def location_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Main clinic",
        "registrant_name": "Dr Ada Example",
        "address": "1 Example Street, Testville",
        "dea_number": CLINIC_DEA,
        "dea_expiry": "2030-01-31",
    }
    body.update(overrides)
    return body


def receipt_body(location: RegisteredLocation, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": location.pk,
        "product_name": "Ketamine HCl injection",
        "ndc": "0409-2051-05",
        "form": "injection, solution",
        "concentration_mg_per_ml": "50",
        "container_volume_ml": "10",
        "lot": "LOT-77",
        "expiry": (timezone.localdate() + timedelta(days=300)).isoformat(),
        "containers": 3,
        "supplier": {
            "name": "Synthetic Pharma Supply",
            "address": "9 Warehouse Road, Testville",
            "dea_number": SUPPLIER_DEA,
        },
        "reference": "INV-2002",
        "received_at": timezone.now().isoformat(),
    }
    body.update(overrides)
    return body


# --- locations and DEA numbers ---------------------------------------------------------------


def test_an_administrator_registers_a_location_with_a_default_safe(clinic: Clinic) -> None:
    response = post(clinic.api("dana"), "/api/v1/ledger/locations", location_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == RegisteredLocation.objects.get().pk
    assert body["dea_number"] == CLINIC_DEA
    assert body["waste_witness_required"] is True
    assert [s["name"] for s in body["storage_locations"]] == ["Safe"]
    storage = post(
        clinic.api("dana"),
        f"/api/v1/ledger/locations/{body['id']}/storage",
        {"name": "Crash cart", "kind": "cabinet"},
    )
    assert storage.status_code == 201
    assert StorageLocation.objects.filter(location_id=body["id"]).count() == 2


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("AB1234564", "check digit"),
        ("AB12345", "9 characters"),
        ("ZB1234563", "not a DEA registrant type"),
        ("AB12C4563", "must all be digits"),
    ],
)
def test_a_wrong_clinic_dea_number_is_refused_with_a_clear_error(
    clinic: Clinic, number: str, message: str
) -> None:
    response = post(
        clinic.api("dana"), "/api/v1/ledger/locations", location_body(dea_number=number)
    )
    assert response.status_code == 422
    (problem,) = [p for p in response.json()["detail"] if p["field"] == "dea_number"]
    assert message in problem["msg"]
    assert not RegisteredLocation.objects.exists()


def test_a_wrong_supplier_dea_number_is_refused_and_stores_nothing(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    body = receipt_body(location)
    body["supplier"]["dea_number"] = "RM7654320"
    response = post(clinic.api("dana"), "/api/v1/ledger/receipts", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "supplier.dea_number"
    assert "check digit" in response.json()["detail"][0]["msg"]
    assert not Receipt.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_only_the_administrator_registers_locations_and_receives(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    for username in ("ada", "ben", "cleo", "pat"):
        assert (
            post(clinic.api(username), "/api/v1/ledger/locations", location_body()).status_code
            == 403
        )
        assert (
            post(
                clinic.api(username), "/api/v1/ledger/receipts", receipt_body(location)
            ).status_code
            == 403
        )


# --- receipts and containers -----------------------------------------------------------------


def test_a_receipt_creates_one_container_per_vial_each_with_its_own_balance(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    response = post(clinic.api("dana"), "/api/v1/ledger/receipts", receipt_body(location))
    assert response.status_code == 201, response.content
    ids = response.json()["containers"]
    assert len(ids) == 3
    receipt = Receipt.objects.get()
    assert receipt.received_by == clinic.users["dana"]
    assert receipt.supplier_dea_number == SUPPLIER_DEA
    for cid in ids:
        detail = clinic.api("ben").get(f"/api/v1/ledger/containers/{cid}").json()
        assert Decimal(detail["balance_ml"]) == Decimal("10")
        assert Decimal(detail["balance_mg"]) == Decimal("500")
        assert [h["kind"] for h in detail["history"]] == ["receipt"]
        assert detail["history"][0]["actor"] == "dana"


def test_a_draw_is_recorded_and_lowers_the_balance(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    response = draw(clinic, vial, session, "2.5")
    assert response.status_code == 201, response.content
    row = LedgerEntry.objects.get(pk=response.json()["id"])
    assert (row.kind, row.ml, row.session_id, row.actor) == (
        EntryKind.DRAW,
        Decimal("2.5"),
        session.pk,
        clinic.users["ben"],
    )
    assert balance(clinic, vial) == Decimal("7.5")


def test_a_draw_larger_than_the_balance_is_refused_with_409_and_stores_nothing(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    before = LedgerEntry.objects.count()
    response = draw(clinic, vial, session, "10.0001")
    assert response.status_code == 409
    assert "holds only 10 mL" in response.json()["detail"]
    assert LedgerEntry.objects.count() == before
    assert balance(clinic, vial) == Decimal("10")


def test_only_nurses_draw(clinic: Clinic, vial: Container, session: Session) -> None:
    for username in ("ada", "dana", "cleo", "pat"):
        response = post(
            clinic.api(username),
            f"/api/v1/ledger/containers/{vial.pk}/draws",
            {"session": str(session.pk), "volume_ml": "1"},
        )
        assert response.status_code == 403, username


def test_an_expired_container_cannot_be_drawn_from(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    (old,) = receive(clinic, location, expiry=timezone.localdate() - timedelta(days=1))
    response = draw(clinic, old, session, "1")
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()


def test_a_quarantined_container_cannot_be_drawn_from_until_released(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    url = f"/api/v1/ledger/containers/{vial.pk}"
    assert (
        post(clinic.api("dana"), f"{url}/quarantine", {"reason": "Seal broken"}).status_code == 201
    )
    refused = draw(clinic, vial, session, "1")
    assert refused.status_code == 409
    assert "quarantined" in refused.json()["detail"]
    assert (
        post(clinic.api("dana"), f"{url}/release", {"reason": "Seal was intact"}).status_code == 201
    )
    assert draw(clinic, vial, session, "1").status_code == 201


# --- waste and witnesses ---------------------------------------------------------------------


def _draw_id(clinic: Clinic, vial: Container, session: Session, ml: str = "2") -> int:
    response = draw(clinic, vial, session, ml)
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def test_waste_witnessed_by_a_clinician_with_password_and_totp_is_recorded(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw_id = _draw_id(clinic, vial, session)
    body = {"volume_ml": "0.6", "method": "into a drug-disposal container"}
    response = post(
        clinic.api("ben"),
        f"/api/v1/ledger/draws/{draw_id}/waste",
        body | witness_fields(clinic, "ada"),
    )
    assert response.status_code == 201, response.content
    row = LedgerEntry.objects.get(pk=response.json()["id"])
    assert row.kind == EntryKind.WASTE
    assert row.witness == clinic.users["ada"]
    assert row.draw_id == draw_id
    assert row.method == "into a drug-disposal container"


@pytest.mark.parametrize(
    ("witness", "field", "message"),
    [
        ({}, "witness_username", "must witness"),
        (
            {"witness_username": "ben", "witness_password": PASSWORD},
            "witness_username",
            "different person",
        ),
        (
            {"witness_username": "ada", "witness_password": "wrong-password", "witness_otp": "x"},
            "witness_password",
            "username or password is wrong",
        ),
        (
            {"witness_username": "nobody", "witness_password": PASSWORD},
            "witness_password",
            "username or password is wrong",
        ),
        (
            {"witness_username": "ada", "witness_password": PASSWORD},
            "witness_otp",
            "give their code",
        ),
        (
            {"witness_username": "ada", "witness_password": PASSWORD, "witness_otp": "000000"},
            "witness_otp",
            "wrong or used",
        ),
        (
            {"witness_username": "cleo", "witness_password": PASSWORD},
            "witness_username",
            "may not witness",
        ),
        (
            {"witness_username": "pat", "witness_password": PASSWORD},
            "witness_username",
            "may not witness",
        ),
    ],
)
def test_waste_without_a_valid_second_user_is_refused_and_stores_nothing(
    clinic: Clinic,
    vial: Container,
    session: Session,
    witness: dict[str, str],
    field: str,
    message: str,
) -> None:
    draw_id = _draw_id(clinic, vial, session)
    before = LedgerEntry.objects.count()
    body = {"volume_ml": "0.5", "method": "disposal container"} | witness
    response = post(clinic.api("ben"), f"/api/v1/ledger/draws/{draw_id}/waste", body)
    assert response.status_code == 422, response.content
    (problem,) = response.json()["detail"]
    assert problem["field"] == field
    assert message in problem["msg"]
    assert LedgerEntry.objects.count() == before


def test_a_nurse_witness_without_totp_needs_only_the_password(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    # Ben (nurse, no TOTP) witnesses for another nurse.
    from ketaclinic.accounts.roles import Role
    from ketaclinic.accounts.services import user_create

    nurse2 = user_create(
        acting_user=None, username="nina", role=Role.NURSE, password=PASSWORD, validate=False
    )
    (vial,) = receive(clinic, location)
    draw_row = _draw_id(clinic, vial, session)
    client = Client()
    client.force_login(nurse2)
    response = post(
        clinic.api("ben"),
        f"/api/v1/ledger/draws/{draw_row}/waste",
        {
            "volume_ml": "1",
            "method": "sink",
            "witness_username": "nina",
            "witness_password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.content


def test_waste_beyond_what_is_left_of_the_draw_is_refused(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw_id = _draw_id(clinic, vial, session, "1")
    response = post(
        clinic.api("ben"),
        f"/api/v1/ledger/draws/{draw_id}/waste",
        {"volume_ml": "1.5", "method": "sink"} | witness_fields(clinic, "ada"),
    )
    assert response.status_code == 409
    assert "only 1 mL was drawn" in response.json()["detail"]


def test_witnessing_can_be_turned_off_per_location(
    clinic: Clinic, location: RegisteredLocation, vial: Container, session: Session
) -> None:
    response = post(
        clinic.api("dana"),
        f"/api/v1/ledger/locations/{location.pk}/witness-policy",
        {"waste_witness_required": False},
    )
    assert response.status_code == 200
    draw_id = _draw_id(clinic, vial, session)
    response = post(
        clinic.api("ben"),
        f"/api/v1/ledger/draws/{draw_id}/waste",
        {"volume_ml": "2", "method": "sink"},
    )
    assert response.status_code == 201, response.content
    assert LedgerEntry.objects.get(pk=response.json()["id"]).witness is None


# --- corrections and append-only ------------------------------------------------------------


def test_a_mistake_is_corrected_by_a_compensating_entry_that_references_it(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw_id = _draw_id(clinic, vial, session, "3")
    url = f"/api/v1/ledger/entries/{draw_id}/corrections"
    response = post(clinic.api("dana"), url, {"volume_ml": "-1", "reason": "Drew 2 mL, typed 3"})
    assert response.status_code == 201, response.content
    row = LedgerEntry.objects.get(pk=response.json()["id"])
    assert (row.kind, row.corrects_id, row.ml) == (EntryKind.CORRECTION, draw_id, Decimal("-1"))
    assert row.reason == "Drew 2 mL, typed 3"
    assert LedgerEntry.objects.get(pk=draw_id).ml == Decimal("3")  # the original is unchanged
    assert balance(clinic, vial) == Decimal("8")
    too_far = post(clinic.api("dana"), url, {"volume_ml": "-5", "reason": "wrong"})
    assert too_far.status_code == 409
    assert "below 0 mL" in too_far.json()["detail"]
    no_reason = post(clinic.api("dana"), url, {"volume_ml": "1", "reason": " "})
    assert no_reason.status_code == 422


def test_ledger_entries_cannot_be_updated_or_deleted_through_the_application(
    vial: Container,
) -> None:
    row = LedgerEntry.objects.get(container=vial)
    with pytest.raises(RuntimeError, match="append-only"):
        row.save()
    with pytest.raises(RuntimeError, match="append-only"):
        row.delete()


# --- counts, investigations and inventories -------------------------------------------------


def test_a_count_with_a_discrepancy_opens_an_investigation_until_resolved(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    first, second = receive(clinic, location, containers=2)
    response = post(
        clinic.api("dana"),
        "/api/v1/ledger/counts",
        {
            "location": location.pk,
            "kind": "shift",
            "lines": [
                {"container": first.pk, "counted_ml": "10"},
                {"container": second.pk, "counted_ml": "9.5"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    (investigation,) = response.json()["investigations"]
    assert investigation["container"] == second.pk
    assert Decimal(investigation["expected_ml"]) == Decimal("10")
    assert Decimal(investigation["counted_ml"]) == Decimal("9.5")
    assert investigation["status"] == "open"
    listed = clinic.api("dana").get("/api/v1/ledger/investigations").json()
    assert [i["id"] for i in listed] == [investigation["id"]]
    resolved = post(
        clinic.api("dana"),
        f"/api/v1/ledger/investigations/{investigation['id']}/resolve",
        {"resolution": "Meniscus misread; recounted 10 mL"},
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert Investigation.objects.get().resolved_by == clinic.users["dana"]
    assert clinic.api("dana").get("/api/v1/ledger/investigations").json() == []
    assert LedgerEntry.objects.filter(kind=EntryKind.COUNT).count() == 2


def test_the_initial_and_biennial_inventories_are_signed_and_kept_two_years(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    opened, unopened = receive(clinic, location, containers=2)
    assert draw(clinic, opened, session, "4").status_code == 201
    lines = [
        {"container": opened.pk, "counted_ml": "6", "estimated": True},
        {"container": unopened.pk, "counted_ml": "10"},
    ]
    body = {
        "location": location.pk,
        "kind": "initial",
        "taken_on": "2026-11-24",
        "business_time": "opening",
        "lines": lines,
    }
    response = post(clinic.api("dana"), "/api/v1/ledger/inventories", body)
    assert response.status_code == 201, response.content
    inventory = response.json()
    assert inventory["signed_by"] == "dana"
    assert inventory["business_time"] == "opening"
    assert len(inventory["digest"]) == 64
    assert inventory["retain_until"] == "2028-11-24"
    assert inventory["next_biennial_due"] == "2028-11-24"
    assert [line["estimated"] for line in inventory["lines"]] == [True, False]
    again = post(clinic.api("dana"), "/api/v1/ledger/inventories", body)
    assert again.status_code == 409
    estimated_unopened = body | {
        "kind": "biennial",
        "business_time": "close",
        "lines": [lines[0], {"container": unopened.pk, "counted_ml": "10", "estimated": True}],
    }
    refused = post(clinic.api("dana"), "/api/v1/ledger/inventories", estimated_unopened)
    assert refused.status_code == 422
    assert "Only opened containers" in refused.json()["detail"][0]["msg"]
    missing = body | {"kind": "biennial", "lines": [lines[0]]}
    assert post(clinic.api("dana"), "/api/v1/ledger/inventories", missing).status_code == 422
    biennial = body | {"kind": "biennial", "business_time": "close"}
    assert post(clinic.api("dana"), "/api/v1/ledger/inventories", biennial).status_code == 201
    assert Inventory.objects.count() == 2


def test_every_ledger_write_is_audited_with_the_patient_of_a_draw(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    from ketaclinic.audit.models import AuditEvent

    draw_id = _draw_id(clinic, vial, session)
    event = AuditEvent.objects.get(object_type="LedgerEntry", object_id=str(draw_id))
    assert (event.action, event.actor_id, event.patient_id) == (
        "C",
        clinic.users["ben"].pk,
        clinic.pat.pk,
    )
    receipt_entry = LedgerEntry.objects.get(container=vial, kind=EntryKind.RECEIPT)
    receipt_event = AuditEvent.objects.get(
        object_type="LedgerEntry", object_id=str(receipt_entry.pk)
    )
    assert receipt_event.patient_id is None
    assert AuditEvent.objects.filter(object_type="RegisteredLocation").count() == 1
