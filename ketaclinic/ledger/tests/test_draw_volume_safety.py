"""A draw whose volume rounds to 0.00 mL at the syringe's precision is refused (issue 12, item
11), on the draw page (the error beside the volume, 422) and through the API (422 with the
field), and nothing is stored; the smallest measurable volume is recorded."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ketaclinic.infusions.models import Session
from ketaclinic.ledger.measuring import draw_volume_quantum_ml, volume_rounds_to_zero
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.testing import Clinic

TOO_SMALL = ["0.004", "0.0049", "0.0001"]
MESSAGE = "rounds to 0.00 mL"


def test_the_quantum_is_the_syringes_and_rounding_is_half_up() -> None:
    assert draw_volume_quantum_ml() == Decimal("0.01")
    assert volume_rounds_to_zero(Decimal("0.0049"))
    assert volume_rounds_to_zero(Decimal("0"))
    assert not volume_rounds_to_zero(Decimal("0.005"))
    assert not volume_rounds_to_zero(Decimal("0.01"))


def _api_draw(clinic: Clinic, vial: Container, session: Session, ml: str) -> object:
    return clinic.api("ben").post(
        f"/api/v1/ledger/containers/{vial.pk}/draws",
        json.dumps({"session": str(session.pk), "volume_ml": ml}),
        content_type="application/json",
    )


@pytest.mark.parametrize("ml", TOO_SMALL)
def test_the_api_refuses_a_draw_that_rounds_to_zero_and_stores_nothing(
    clinic: Clinic, vial: Container, session: Session, ml: str
) -> None:
    response = _api_draw(clinic, vial, session, ml)
    assert response.status_code == 422, response.content  # type: ignore[attr-defined]
    (problem,) = response.json()["detail"]  # type: ignore[attr-defined]
    assert problem["field"] == "volume_ml"
    assert MESSAGE in problem["msg"]
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()


def test_the_api_records_the_smallest_measurable_draw(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    response = _api_draw(clinic, vial, session, "0.01")
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    assert LedgerEntry.objects.get(kind=EntryKind.DRAW).ml == Decimal("0.01")


def test_the_draw_page_refuses_it_beside_the_volume_and_stores_nothing(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    client = clinic.client("ben")
    for ml in TOO_SMALL:
        response = client.post(
            f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": ml}
        )
        assert response.status_code == 422, ml
        html = response.content.decode()
        assert 'id="id_volume_ml_errors"' in html, ml
        assert MESSAGE in html
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()
