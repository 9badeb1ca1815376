"""The shipped protocol data loads, is fully sourced, and bad data is refused by path."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from ketaclinic.infusions.protocols import (
    INTRANASAL_ESKETAMINE_56_MG,
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    SC_RACEMIC_GLUE,
    Action,
    Comparator,
    DoseBasis,
    Phase,
    ProtocolDataError,
    RateVolume,
    Route,
    VitalField,
    protocol_from_dict,
    protocol_from_json,
    shipped_protocol,
    shipped_protocols,
)
from ketaclinic.infusions.protocols.loader import SHIPPED_FILES


def _iv_data() -> dict[str, Any]:
    text = (resources.files("ketaclinic.infusions.protocols") / SHIPPED_FILES[0]).read_text(
        encoding="utf-8"
    )
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def test_shipped_protocols_load_iv_first() -> None:
    codes = [p.code for p in shipped_protocols()]
    assert codes == [IV_RACEMIC_0_5_MG_KG_40_MIN, INTRANASAL_ESKETAMINE_56_MG, SC_RACEMIC_GLUE]


def test_iv_protocol_numbers() -> None:
    iv = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
    assert iv.route is Route.IV
    assert iv.medication == "racemic ketamine"
    assert iv.dosing.basis is DoseBasis.PER_KG
    assert iv.dosing.amount.value == Decimal("0.5")
    assert iv.dosing.infusion_minutes is not None
    assert iv.dosing.infusion_minutes.value == 40
    assert iv.dosing.max_single_dose_mg.value == Decimal(50)
    assert "clinic default" in iv.dosing.max_single_dose_mg.source
    assert iv.dosing.rate_volume is not None
    assert iv.dosing.rate_volume.value is RateVolume.BAG_PLUS_DRUG
    assert iv.dosing.rounding.mode == "ROUND_HALF_UP"
    assert iv.dosing.rounding.dose_mg == Decimal("0.1")
    assert iv.dosing.rounding.volume_ml == Decimal("0.01")
    assert iv.dosing.rounding.rate_ml_per_h == Decimal("0.1")
    induction = iv.schedule[Phase.INDUCTION]
    assert induction.max_sessions is not None and induction.max_sessions.value == 6
    assert "Murrough 2013" in induction.max_sessions.source
    assert induction.min_hours_between.value == 48
    assert induction.window_days is not None and induction.window_days.value == 21
    assert iv.schedule[Phase.MAINTENANCE].max_sessions is None
    assert iv.monitoring.vitals_interval_dosing_minutes.value == 5
    assert iv.monitoring.vitals_interval_recovery_minutes.value == 15
    assert iv.discharge.min_observation_minutes.value == 60
    assert iv.discharge.aldrete_min.value == 9
    assert iv.discharge.escort_required.value is True
    assert {(t.field, t.comparator, t.value) for t in iv.predose_holds} == {
        (VitalField.SYSTOLIC_MMHG, Comparator.GE, 140),
        (VitalField.DIASTOLIC_MMHG, Comparator.GE, 90),
        (VitalField.HEART_RATE_BPM, Comparator.GE, 110),
        (VitalField.SPO2_PERCENT, Comparator.LT, 92),
        (VitalField.RESPIRATORY_RATE, Comparator.LT, 10),
    }
    assert {(t.code, t.field, t.comparator, t.value) for t in iv.alerts} == {
        ("sbp_high", VitalField.SYSTOLIC_MMHG, Comparator.GE, 180),
        ("dbp_high", VitalField.DIASTOLIC_MMHG, Comparator.GE, 100),
        ("hr_high", VitalField.HEART_RATE_BPM, Comparator.GE, 110),
        ("spo2_low", VitalField.SPO2_PERCENT, Comparator.LT, 92),
        ("rr_low", VitalField.RESPIRATORY_RATE, Comparator.LT, 10),
        ("moaas_low", VitalField.MOAAS, Comparator.LE, 2),
    }
    assert all(t.actions[0] is Action.HOLD for t in iv.predose_holds)


def test_esketamine_protocol_numbers() -> None:
    esk = shipped_protocol(INTRANASAL_ESKETAMINE_56_MG)
    assert esk.route is Route.INTRANASAL
    assert esk.dosing.basis is DoseBasis.FIXED
    assert esk.dosing.amount.value == Decimal(56)
    assert esk.dosing.allowed_amounts.value == (Decimal(56), Decimal(84))
    assert esk.dosing.infusion_minutes is None
    assert esk.discharge.min_observation_minutes.value == 120
    assert "Spravato" in esk.discharge.min_observation_minutes.source


def test_sc_protocol_amounts_follow_glue() -> None:
    sc = shipped_protocol(SC_RACEMIC_GLUE)
    assert sc.route is Route.SC
    assert sc.dosing.allowed_amounts.value == (Decimal("0.25"), Decimal("0.5"), Decimal(1))
    assert "Glue" in sc.dosing.allowed_amounts.source


def test_unknown_shipped_code_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        shipped_protocol("no-such-protocol")


def _walk(node: object, path: str = "") -> list[str]:
    """Paths of objects that hold a number but no source."""
    missing: list[str] = []
    if isinstance(node, dict):
        numbers = [
            k for k, v in node.items() if isinstance(v, int | Decimal) and not isinstance(v, bool)
        ]
        if "value" in numbers and "source" not in node:
            missing.append(path)
        for key, value in node.items():
            missing.extend(_walk(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            missing.extend(_walk(value, f"{path}[{i}]"))
    return missing


@pytest.mark.parametrize("name", SHIPPED_FILES)
def test_every_shipped_value_has_a_source(name: str) -> None:
    text = (resources.files("ketaclinic.infusions.protocols") / name).read_text(encoding="utf-8")
    data = json.loads(text, parse_float=Decimal)
    assert _walk(data) == []
    for protocol in shipped_protocols():
        for threshold in (*protocol.alerts, *protocol.predose_holds):
            assert threshold.source.strip()


def test_numbers_are_parsed_as_decimal_not_float() -> None:
    text = (resources.files("ketaclinic.infusions.protocols") / SHIPPED_FILES[0]).read_text(
        encoding="utf-8"
    )
    iv = protocol_from_json(text)
    assert isinstance(iv.dosing.amount.value, Decimal)
    assert iv.dosing.rounding.volume_ml.as_tuple() == Decimal("0.01").as_tuple()


def test_numbers_written_as_text_are_refused() -> None:
    data = _iv_data()
    data["dosing"]["amount"]["value"] = "0.5"
    with pytest.raises(ProtocolDataError, match=r"dosing\.amount\.value: expected a number"):
        protocol_from_dict(data)


def test_missing_source_is_refused_with_its_path() -> None:
    data = _iv_data()
    del data["dosing"]["amount"]["source"]
    with pytest.raises(ProtocolDataError, match=r"protocol\.dosing\.amount: missing source"):
        protocol_from_dict(data)


def test_unknown_comparator_is_refused() -> None:
    data = _iv_data()
    data["alerts"][0]["comparator"] = "=>"
    with pytest.raises(ProtocolDataError, match=r"alerts\[0\]\.comparator"):
        protocol_from_dict(data)


def test_default_amount_must_be_allowed() -> None:
    data = _iv_data()
    data["dosing"]["amount"]["value"] = Decimal("0.75")
    with pytest.raises(ProtocolDataError, match="not among allowed_amounts"):
        protocol_from_dict(data)


def test_rounding_quantum_must_be_a_power_of_ten() -> None:
    data = _iv_data()
    data["dosing"]["rounding"]["dose_mg"] = Decimal("0.25")
    with pytest.raises(ProtocolDataError, match="power of ten"):
        protocol_from_dict(data)


def test_unknown_key_is_refused() -> None:
    data = _iv_data()
    data["dosing"]["mg_per_kg"] = Decimal("0.5")
    with pytest.raises(ProtocolDataError, match="unknown key mg_per_kg"):
        protocol_from_dict(data)


def test_shipped_schedule_is_read_only() -> None:
    iv = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
    with pytest.raises(TypeError):
        iv.schedule[Phase.INDUCTION] = iv.schedule[Phase.MAINTENANCE]  # type: ignore[index]  # the point
