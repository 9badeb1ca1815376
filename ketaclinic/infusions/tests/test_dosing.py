"""Dose, volume and rate arithmetic: hand-computed tables and hypothesis properties."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.infusions.protocols import (
    INTRANASAL_ESKETAMINE_56_MG,
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    SC_RACEMIC_GLUE,
    RateVolume,
    Sourced,
    shipped_protocol,
)
from ketaclinic.infusions.rules.dosing import (
    DoseAboveMaximum,
    DoseInputError,
    dose_calculate,
    weight_is_current,
)

IV = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
ESKETAMINE = shipped_protocol(INTRANASAL_ESKETAMINE_56_MG)
SC = shipped_protocol(SC_RACEMIC_GLUE)
D = Decimal


@pytest.mark.parametrize(
    ("weight", "concentration", "bag", "dose", "volume", "rate"),
    [
        # The worked example: 36.25 -> 36.3 mg; 3.63 mL; 103.63 x 60 / 40 = 155.445 -> 155.4.
        ("72.5", "10", "100", "36.3", "3.63", "155.4"),
        # 32.65 -> 32.7 (half up; half even would give 32.6); 3.27 mL; 154.905 -> 154.9.
        ("65.3", "10", "100", "32.7", "3.27", "154.9"),
        # 40 mg; 0.80 mL; 50.80 x 1.5 = 76.2.
        ("80", "50", "50", "40.0", "0.80", "76.2"),
        # 36.5 mg / 100 = 0.365 -> 0.37 mL (half up); 100.37 x 1.5 = 150.555 -> 150.6.
        ("73", "100", "100", "36.5", "0.37", "150.6"),
        # Exactly the 50 mg maximum is allowed; 0.50 mL; 250.50 x 1.5 = 375.75 -> 375.8.
        ("100", "100", "250", "50.0", "0.50", "375.8"),
        # 27.55 -> 27.6 mg; 2.76 mL; 52.76 x 1.5 = 79.14 -> 79.1.
        ("55.1", "10", "50", "27.6", "2.76", "79.1"),
    ],
)
def test_iv_dose_table(
    weight: str, concentration: str, bag: str, dose: str, volume: str, rate: str
) -> None:
    result = dose_calculate(
        protocol_or_params=IV,
        weight_kg=D(weight),
        concentration_mg_per_ml=D(concentration),
        bag_volume_ml=D(bag),
    )
    assert (result.dose_mg, result.drug_volume_ml, result.rate_ml_per_h) == (
        D(dose),
        D(volume),
        D(rate),
    )
    # Same digits, same exponent: "0.80" stays "0.80".
    assert str(result.dose_mg) == dose
    assert str(result.drug_volume_ml) == volume
    assert str(result.rate_ml_per_h) == rate
    assert result.protocol_code == IV.code
    assert result.above_maximum is False
    assert result.override_reason is None


def test_worked_example_shows_its_working() -> None:
    result = dose_calculate(
        protocol_or_params=IV,
        weight_kg=D("72.5"),
        concentration_mg_per_ml=D(10),
        bag_volume_ml=D(100),
    )
    assert result.dose_mg_exact == D("36.25")
    assert result.infused_volume_ml == D("103.63")
    assert result.working == (
        "dose = 0.5 mg/kg x 72.5 kg = 36.25 mg -> 36.3 mg (ROUND_HALF_UP to 0.1)",
        "volume = 36.3 mg / 10 mg/mL = 3.63 mL -> 3.63 mL (ROUND_HALF_UP to 0.01)",
        "infused volume = 100 mL bag + 3.63 mL drug = 103.63 mL",
        "rate = 103.63 mL x 60 / 40 min = 155.445 mL/h -> 155.4 mL/h (ROUND_HALF_UP to 0.1)",
    )


def test_volume_comes_from_the_rounded_dose() -> None:
    # 60.9 kg x 0.5 = 30.45 -> 30.5 mg; 30.5 / 100 = 0.305 -> 0.31 mL. From the unrounded dose
    # it would have been 30.45 / 100 = 0.3045 -> 0.30 mL.
    result = dose_calculate(
        protocol_or_params=IV,
        weight_kg=D("60.9"),
        concentration_mg_per_ml=D(100),
        bag_volume_ml=None,
    )
    assert result.dose_mg == D("30.5")
    assert result.drug_volume_ml == D("0.31")
    assert result.rate_ml_per_h is None


def test_bag_only_rate_leaves_out_the_drug_volume() -> None:
    params = dataclasses.replace(
        IV.dosing, rate_volume=Sourced(RateVolume.BAG_ONLY, "test: volume withdrawn first")
    )
    result = dose_calculate(
        protocol_or_params=params,
        weight_kg=D("72.5"),
        concentration_mg_per_ml=D(10),
        bag_volume_ml=D(100),
    )
    assert result.rate_ml_per_h == D("150.0")
    assert result.protocol_code is None


def test_dose_above_maximum_is_refused_without_override() -> None:
    # 100.1 kg x 0.5 = 50.05 -> 50.1 mg, above the 50 mg clinic default.
    with pytest.raises(DoseAboveMaximum) as caught:
        dose_calculate(
            protocol_or_params=IV,
            weight_kg=D("100.1"),
            concentration_mg_per_ml=D(10),
            bag_volume_ml=D(100),
        )
    assert caught.value.dose_mg == D("50.1")
    assert caught.value.max_single_dose_mg == D(50)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_blank_override_reason_does_not_override(reason: str | None) -> None:
    with pytest.raises(DoseAboveMaximum):
        dose_calculate(
            protocol_or_params=IV,
            weight_kg=D(120),
            concentration_mg_per_ml=D(10),
            bag_volume_ml=None,
            override_reason=reason,
        )


def test_override_reason_is_recorded() -> None:
    result = dose_calculate(
        protocol_or_params=IV,
        weight_kg=D(120),
        concentration_mg_per_ml=D(10),
        bag_volume_ml=D(100),
        override_reason="  Dr Ada: actual body weight per prior tolerated sessions  ",
    )
    assert result.dose_mg == D("60.0")
    assert result.drug_volume_ml == D("6.00")
    assert result.rate_ml_per_h == D("159.0")  # 106.00 x 1.5
    assert result.above_maximum is True
    assert result.override_reason == "Dr Ada: actual body weight per prior tolerated sessions"
    assert "override" in result.working[1]


def test_override_reason_is_not_recorded_when_not_needed() -> None:
    result = dose_calculate(
        protocol_or_params=IV,
        weight_kg=D(70),
        concentration_mg_per_ml=D(10),
        bag_volume_ml=None,
        override_reason="just in case",
    )
    assert result.above_maximum is False
    assert result.override_reason is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", 72.5, "binary floats are refused"),
        ("weight_kg", D(0), "must be above zero"),
        ("weight_kg", D(-70), "must be above zero"),
        ("weight_kg", D("0.5"), "outside the plausible range"),
        ("weight_kg", D("400.1"), "outside the plausible range"),
        ("weight_kg", D("NaN"), "finite"),
        ("weight_kg", D("Infinity"), "finite"),
        ("weight_kg", 72, "expected a Decimal"),
        ("concentration_mg_per_ml", D(0), "must be above zero"),
        ("concentration_mg_per_ml", D(1000), "outside the plausible range"),
        ("concentration_mg_per_ml", 10.0, "binary floats are refused"),
        ("bag_volume_ml", D(0), "must be above zero"),
        ("bag_volume_ml", D(5000), "outside the plausible range"),
    ],
)
def test_absurd_inputs_are_refused(field: str, value: object, message: str) -> None:
    inputs: dict[str, object] = {
        "weight_kg": D(70),
        "concentration_mg_per_ml": D(10),
        "bag_volume_ml": D(100),
    }
    inputs[field] = value
    with pytest.raises(DoseInputError, match=f"{field}: .*{message}"):
        dose_calculate(protocol_or_params=IV, **inputs)  # type: ignore[arg-type]  # wrong types on purpose


def test_per_kg_dose_needs_a_weight() -> None:
    with pytest.raises(DoseInputError, match="weight_kg: required"):
        dose_calculate(protocol_or_params=IV, weight_kg=None, concentration_mg_per_ml=D(10))


def test_drawn_up_dose_needs_a_concentration() -> None:
    with pytest.raises(DoseInputError, match="concentration_mg_per_ml: required"):
        dose_calculate(protocol_or_params=IV, weight_kg=D(70), concentration_mg_per_ml=None)


def test_amount_must_be_one_the_protocol_allows() -> None:
    with pytest.raises(DoseInputError, match=r"amount: 0\.75 is not one of"):
        dose_calculate(
            protocol_or_params=IV,
            weight_kg=D(70),
            concentration_mg_per_ml=D(10),
            amount=D("0.75"),
        )


@pytest.mark.parametrize(("amount", "devices"), [(None, 2), (D(56), 2), (D(84), 3)])
def test_esketamine_fixed_dose_in_devices(amount: Decimal | None, devices: int) -> None:
    result = dose_calculate(
        protocol_or_params=ESKETAMINE, weight_kg=None, concentration_mg_per_ml=None, amount=amount
    )
    assert result.devices == devices
    assert result.dose_mg == D(28 * devices)
    assert result.drug_volume_ml is None
    assert result.rate_ml_per_h is None


def test_esketamine_refuses_a_concentration_and_a_bag() -> None:
    with pytest.raises(DoseInputError, match="no concentration"):
        dose_calculate(protocol_or_params=ESKETAMINE, weight_kg=None, concentration_mg_per_ml=D(10))
    with pytest.raises(DoseInputError, match="no infusion time"):
        dose_calculate(
            protocol_or_params=ESKETAMINE,
            weight_kg=None,
            concentration_mg_per_ml=None,
            bag_volume_ml=D(100),
        )


@pytest.mark.parametrize(
    ("amount", "weight", "dose", "volume"),
    [
        # At 50 mg/mL: 0.25 x 80 = 20.0 mg -> 0.40 mL; 40.0 mg -> 0.80 mL; 80.0 mg -> 1.60 mL.
        ("0.25", "80", "20.0", "0.40"),
        ("0.5", "80", "40.0", "0.80"),
        ("1", "80", "80.0", "1.60"),
        # 0.25 x 66.6 = 16.65 -> 16.7 mg; 16.7 / 50 = 0.334 -> 0.33 mL.
        ("0.25", "66.6", "16.7", "0.33"),
    ],
)
def test_sc_glue_ascending_doses(amount: str, weight: str, dose: str, volume: str) -> None:
    result = dose_calculate(
        protocol_or_params=SC,
        weight_kg=D(weight),
        concentration_mg_per_ml=D(50),
        bag_volume_ml=None,
        amount=D(amount),
    )
    assert (str(result.dose_mg), str(result.drug_volume_ml)) == (dose, volume)
    assert result.rate_ml_per_h is None


def test_sc_has_no_bag() -> None:
    with pytest.raises(DoseInputError, match="bag_volume_ml: this protocol has no infusion time"):
        dose_calculate(
            protocol_or_params=SC,
            weight_kg=D(80),
            concentration_mg_per_ml=D(50),
            bag_volume_ml=D(100),
        )


# --- properties -------------------------------------------------------------------------------

weights = st.integers(min_value=300, max_value=2500).map(lambda n: Decimal(n).scaleb(-1))
concentrations = st.sampled_from([D(10), D(50), D(100)])
bags = st.integers(min_value=50, max_value=250).map(Decimal)
OVERRIDE = "property test: heavy patient"


@given(weight=weights, concentration=concentrations, bag=bags)
def test_dose_volume_and_rate_properties(
    weight: Decimal, concentration: Decimal, bag: Decimal
) -> None:
    result = dose_calculate(
        protocol_or_params=IV,
        weight_kg=weight,
        concentration_mg_per_ml=concentration,
        bag_volume_ml=bag,
        override_reason=OVERRIDE,
    )
    assert result.drug_volume_ml is not None and result.rate_ml_per_h is not None
    for value, exponent in (
        (result.dose_mg, -1),
        (result.drug_volume_ml, -2),
        (result.rate_ml_per_h, -1),
    ):
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == exponent
    # dose = mg/kg x weight within half the dose quantum
    assert abs(result.dose_mg - D("0.5") * weight) <= D("0.05")
    # volume x concentration = dose within half the volume quantum times the concentration
    assert abs(result.drug_volume_ml * concentration - result.dose_mg) <= D("0.005") * concentration
    # rate = (bag + volume) x 60 / 40 within half the rate quantum
    assert abs(result.rate_ml_per_h - (bag + result.drug_volume_ml) * 60 / 40) <= D("0.05")
    assert result.above_maximum is (result.dose_mg > D(50))
    assert result.override_reason == (OVERRIDE if result.above_maximum else None)


@given(weight=weights, concentration=concentrations, bag=bags, extra=st.integers(1, 100))
def test_rate_is_monotone_in_bag_volume(
    weight: Decimal, concentration: Decimal, bag: Decimal, extra: int
) -> None:
    def rate(bag_volume: Decimal) -> Decimal:
        result = dose_calculate(
            protocol_or_params=IV,
            weight_kg=weight,
            concentration_mg_per_ml=concentration,
            bag_volume_ml=bag_volume,
            override_reason=OVERRIDE,
        )
        assert result.rate_ml_per_h is not None
        return result.rate_ml_per_h

    assert rate(bag) <= rate(bag + extra)


@given(weight=weights)
def test_dose_above_maximum_raises_exactly_when_above(weight: Decimal) -> None:
    try:
        result = dose_calculate(
            protocol_or_params=IV, weight_kg=weight, concentration_mg_per_ml=D(10)
        )
    except DoseAboveMaximum as exc:
        assert exc.dose_mg > D(50)
    else:
        assert result.dose_mg <= D(50)


# --- weight validity --------------------------------------------------------------------------


def test_weight_valid_for_the_protocol_days() -> None:
    measured = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    days = IV.weight_valid_days.value
    assert weight_is_current(measured_at=measured, at=measured + timedelta(days=days), protocol=IV)
    assert not weight_is_current(
        measured_at=measured, at=measured + timedelta(days=days, seconds=1), protocol=IV
    )


def test_weight_validity_counts_elapsed_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks go forward on 30 March 2025: 30 days 45 min on the wall clock are 29 days 23 h
    # 45 min elapsed, within the 30 days.
    measured = datetime(2025, 3, 1, 9, 30, tzinfo=berlin)
    at = datetime(2025, 3, 31, 10, 15, tzinfo=berlin)
    assert weight_is_current(measured_at=measured, at=at, protocol=IV)


def test_weight_validity_refuses_naive_and_future_weights() -> None:
    now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        weight_is_current(measured_at=now.replace(tzinfo=None), at=now, protocol=IV)
    with pytest.raises(ValueError, match="after the time of dosing"):
        weight_is_current(measured_at=now + timedelta(hours=1), at=now, protocol=IV)
