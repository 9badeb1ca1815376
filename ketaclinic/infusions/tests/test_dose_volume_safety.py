"""A dose whose volume to draw rounds to 0.00 mL is refused (issue 12, item 11): by the pure
dose calculation (1.5 kg x 0.25 mg/kg = 0.4 mg at 100 mg/mL is 0.004 mL), and so by the chart's
dose step on the page (the error beside the concentration, 422) and through the API (422 with
the field), with nothing stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.infusions.dosing import DoseInputError, dose_calculate
from ketaclinic.infusions.models import DoseCheck
from ketaclinic.infusions.protocols import (
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    SC_RACEMIC_GLUE,
    shipped_protocol,
)
from ketaclinic.infusions.tests.chart_driver import chart_for
from ketaclinic.testing import Clinic

SC = shipped_protocol(SC_RACEMIC_GLUE)
IV = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
D = Decimal
MESSAGE = "the volume to draw rounds to 0.00 mL at {} mg/mL; use a lower concentration"


@pytest.mark.parametrize(
    ("weight", "concentration", "amount"),
    [
        ("1.5", "100", "0.25"),  # 0.375 -> 0.4 mg; 0.004 mL -> 0.00
        ("1", "100", "0.25"),  # 0.25 -> 0.3 mg; 0.003 mL -> 0.00
        ("1.5", "99.5", "0.25"),  # 0.4 mg / 99.5 = 0.00402 mL -> 0.00
    ],
)
def test_a_volume_that_rounds_to_zero_is_refused(
    weight: str, concentration: str, amount: str
) -> None:
    with pytest.raises(DoseInputError) as refused:
        dose_calculate(
            protocol_or_params=SC,
            weight_kg=D(weight),
            concentration_mg_per_ml=D(concentration),
            amount=D(amount),
        )
    assert str(refused.value) == f"concentration_mg_per_ml: {MESSAGE.format(concentration)}"


@pytest.mark.parametrize(
    ("protocol", "weight", "concentration", "volume"),
    [
        (SC, "1.9", "100", "0.01"),  # 0.5 mg / 100 = 0.005 -> 0.01 mL (half up): the smallest
        (SC, "1.5", "10", "0.04"),  # the same dose at a lower concentration
        (IV, "1", "100", "0.01"),  # 0.5 mg / 100 = 0.005 -> 0.01 mL
    ],
)
def test_the_smallest_measurable_volume_is_accepted(
    protocol: object, weight: str, concentration: str, volume: str
) -> None:
    calc = dose_calculate(
        protocol_or_params=protocol,  # type: ignore[arg-type]
        weight_kg=D(weight),
        concentration_mg_per_ml=D(concentration),
    )
    assert calc.drug_volume_ml == D(volume)


def test_the_chart_api_refuses_it_with_the_field_and_stores_nothing(clinic: Clinic) -> None:
    chart = chart_for(clinic, code=SC_RACEMIC_GLUE)
    assert chart.check_in().status_code in (200, 201)
    response = chart.dose(weight_kg=1.5, concentration_mg_per_ml=100, bag_volume_ml=None)
    assert response.status_code == 422, response.content
    (problem,) = response.json()["detail"]
    assert problem["field"] == "concentration_mg_per_ml"
    assert MESSAGE.format(100) in problem["msg"]
    assert not DoseCheck.objects.exists()
    ok = chart.dose(weight_kg=1.5, concentration_mg_per_ml=10, bag_volume_ml=None)
    assert ok.status_code == 201, ok.content
    assert DoseCheck.objects.get().drug_volume_ml == D("0.04")


def test_the_chart_page_shows_it_beside_the_concentration_and_stores_nothing(
    clinic: Clinic,
) -> None:
    chart = chart_for(clinic, code=SC_RACEMIC_GLUE)
    assert chart.check_in().status_code in (200, 201)
    response = clinic.client("ben").post(
        f"/infusions/sessions/{chart.session.pk}/dose/",
        {"weight_kg": "1.5", "concentration_mg_per_ml": "100"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_dose_concentration_mg_per_ml_errors"' in html
    assert MESSAGE.format(100) in html
    assert not DoseCheck.objects.exists()
