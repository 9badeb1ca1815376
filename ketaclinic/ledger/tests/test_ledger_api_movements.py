"""The ledger's other movements through its API: transfers, returns to a reverse distributor,
destruction (Form 41), breakage and spills, loss (Form 106) (moved out of test_ledger_api.py,
which passed 600 lines)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.infusions.models import Session
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    LedgerEntry,
    RegisteredLocation,
    StorageLocation,
)
from ketaclinic.ledger.tests.conftest import SUPPLIER_DEA, otp, witness_fields
from ketaclinic.ledger.tests.test_ledger_api import _draw_id, balance, post
from ketaclinic.testing import PASSWORD, Clinic

# --- other movements -------------------------------------------------------------------------


def test_a_transfer_moves_the_container_between_storage_locations(
    clinic: Clinic, location: RegisteredLocation, vial: Container
) -> None:
    cabinet = StorageLocation.objects.create(location=location, name="Cabinet 2", kind="cabinet")
    url = f"/api/v1/ledger/containers/{vial.pk}/transfers"
    response = post(clinic.api("dana"), url, {"to_storage": cabinet.pk, "reason": "restock"})
    assert response.status_code == 201, response.content
    detail = clinic.api("dana").get(f"/api/v1/ledger/containers/{vial.pk}").json()
    assert detail["storage"] == cabinet.pk
    assert Decimal(detail["balance_ml"]) == Decimal("10")
    again = post(clinic.api("dana"), url, {"to_storage": cabinet.pk})
    assert again.status_code == 409
    assert "already in" in again.json()["detail"]


def test_a_return_to_a_reverse_distributor_checks_its_dea_number(
    clinic: Clinic, vial: Container
) -> None:
    url = f"/api/v1/ledger/containers/{vial.pk}/returns"
    body: dict[str, Any] = {
        "volume_ml": "10",
        "distributor": {
            "name": "Reverse Co",
            "address": "3 Return Lane",
            "dea_number": "RM7654321",
        },
        "reference": "RA-1",
    }
    bad = post(clinic.api("dana"), url, body)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "distributor.dea_number"
    body["distributor"]["dea_number"] = SUPPLIER_DEA
    assert post(clinic.api("dana"), url, body).status_code == 201
    assert balance(clinic, vial) == Decimal("0")


def _destruction(clinic: Clinic, witnesses: list[str]) -> dict[str, Any]:
    creds = []
    for name in witnesses:
        fields = witness_fields(clinic, name)
        creds.append(
            {
                "username": fields["witness_username"],
                "password": fields["witness_password"],
                "otp": fields["witness_otp"],
            }
        )
    return {
        "volume_ml": "4",
        "method": "chemical denaturing kit",
        "place": "Pharmacy room",
        "witnesses": creds,
    }


def test_destruction_with_two_witnesses_records_the_data_of_form_41(
    clinic: Clinic, vial: Container
) -> None:
    url = f"/api/v1/ledger/containers/{vial.pk}/destructions"
    response = post(clinic.api("dana"), url, _destruction(clinic, ["ada", "ben"]))
    assert response.status_code == 201, response.content
    row = LedgerEntry.objects.get(pk=response.json()["id"])
    assert (row.witness, row.second_witness) == (clinic.users["ada"], clinic.users["ben"])
    form = row.details
    assert form["form"] == "DEA Form 41"
    assert form["ndc"] == vial.ndc
    assert form["batch"] == vial.lot
    assert form["quantity_ml"] == "4.0000"
    assert form["method"] == "chemical denaturing kit"
    assert form["place"] == "Pharmacy room"
    assert form["date"] == timezone.localdate().isoformat()
    assert len(form["witnesses"]) == 2
    assert balance(clinic, vial) == Decimal("6")


@pytest.mark.parametrize("names", [["ada"], ["ada", "ada"], ["ada", "dana"], []])
def test_destruction_without_two_different_valid_witnesses_is_refused(
    clinic: Clinic, vial: Container, names: list[str]
) -> None:
    url = f"/api/v1/ledger/containers/{vial.pk}/destructions"
    body = _destruction(clinic, names) if "dana" not in names else _destruction(clinic, ["ada"])
    if "dana" in names:
        body["witnesses"].append(
            {"username": "dana", "password": PASSWORD, "otp": otp(clinic, "dana")}
        )
    response = post(clinic.api("dana"), url, body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["field"].startswith("witnesses")
    assert not LedgerEntry.objects.filter(kind=EntryKind.DESTRUCTION).exists()


def test_breakage_needs_a_witness(clinic: Clinic, vial: Container, session: Session) -> None:
    url = f"/api/v1/ledger/containers/{vial.pk}/breakages"
    body: dict[str, Any] = {"volume_ml": "10", "description": "Vial dropped on the floor"}
    assert post(clinic.api("ben"), url, body).status_code == 422
    response = post(clinic.api("ben"), url, body | witness_fields(clinic, "ada"))
    assert response.status_code == 201, response.content
    assert balance(clinic, vial) == Decimal("0")


def test_a_spill_from_a_drawn_syringe_is_recorded_against_the_draw(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw_id = _draw_id(clinic, vial, session, "2")
    url = f"/api/v1/ledger/containers/{vial.pk}/breakages"
    body = {"volume_ml": "2", "description": "Syringe dropped", "draw": draw_id}
    response = post(clinic.api("ben"), url, body | witness_fields(clinic, "ada"))
    assert response.status_code == 201, response.content
    detail = clinic.api("dana").get(f"/api/v1/ledger/containers/{vial.pk}").json()
    assert Decimal(detail["totals"]["open_draws"]) == Decimal("0")
    assert Decimal(detail["totals"]["broken"]) == Decimal("2")


def test_a_loss_records_form_106_data_and_shows_the_one_business_day_notice_due_date(
    clinic: Clinic, vial: Container
) -> None:
    friday = date(2026, 11, 20)
    response = post(
        clinic.api("dana"),
        f"/api/v1/ledger/containers/{vial.pk}/losses",
        {
            "volume_ml": "3",
            "kind": "theft",
            "discovered_on": friday.isoformat(),
            "description": "Safe found open after the weekend",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["notice_due"] == "2026-11-23"  # the next business day, a Monday
    assert body["form_106_due"] == "2027-01-04"  # 45 days
    row = LedgerEntry.objects.get(pk=body["id"])
    assert row.details["form"] == "DEA Form 106"
    assert row.details["type"] == "theft"
    assert balance(clinic, vial) == Decimal("7")
