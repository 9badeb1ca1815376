"""Vitals plausibility, alerts at their boundaries, the pre-dose hold and the discharge gate."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ketaclinic.infusions.monitoring import (
    Vitals,
    discharge_check,
    predose_hold,
    vitals_alerts,
    vitals_check_plausible,
)
from ketaclinic.infusions.protocols import (
    INTRANASAL_ESKETAMINE_56_MG,
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    Action,
    Comparator,
    Protocol,
    Threshold,
    VitalField,
    shipped_protocol,
    shipped_protocols,
)

IV = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
ESKETAMINE = shipped_protocol(INTRANASAL_ESKETAMINE_56_MG)
CALM = Vitals(
    systolic_mmhg=120,
    diastolic_mmhg=75,
    heart_rate_bpm=72,
    spo2_percent=98,
    respiratory_rate=14,
    moaas=5,
)


def _with(**changes: Any) -> Vitals:
    return dataclasses.replace(CALM, **changes)


def test_vitals_fields_match_the_protocol_fields() -> None:
    assert {f.name for f in dataclasses.fields(Vitals)} == {f.value for f in VitalField}


def test_calm_vitals_raise_nothing() -> None:
    assert vitals_alerts(IV.alerts, CALM) == []
    assert vitals_check_plausible(vitals=CALM, limits=IV.vitals_plausibility) == []


# The shipped IV alert numbers, pinned: (field, value that alerts, one step on the safe side).
@pytest.mark.parametrize(
    ("code", "field", "alerting", "safe", "action"),
    [
        ("sbp_high", "systolic_mmhg", 180, 179, Action.PAUSE),
        ("dbp_high", "diastolic_mmhg", 100, 99, Action.PAUSE),
        ("hr_high", "heart_rate_bpm", 110, 109, Action.SLOW),
        ("spo2_low", "spo2_percent", 91, 92, Action.STOP),
        ("rr_low", "respiratory_rate", 9, 10, Action.STOP),
        ("moaas_low", "moaas", 2, 3, Action.STOP),
    ],
)
def test_iv_alert_boundaries(
    code: str, field: str, alerting: int, safe: int, action: Action
) -> None:
    alerts = vitals_alerts(IV.alerts, _with(**{field: alerting}))
    assert [a.code for a in alerts] == [code]
    (alert,) = alerts
    assert alert.field.value == field
    assert alert.value == alerting
    assert alert.recommended_action is action
    assert Action.CALL_PRESCRIBER in alert.actions
    assert alert.source
    assert vitals_alerts(IV.alerts, _with(**{field: safe})) == []


def _boundary(threshold: Threshold) -> tuple[int, int]:
    """The value that just meets the threshold and the one just on the safe side."""
    value = threshold.value
    return {
        Comparator.GE: (value, value - 1),
        Comparator.GT: (value + 1, value),
        Comparator.LE: (value, value + 1),
        Comparator.LT: (value - 1, value),
    }[threshold.comparator]


@pytest.mark.parametrize(
    ("protocol", "threshold"),
    [(p, t) for p in shipped_protocols() for t in p.alerts],
    ids=lambda x: x.code if isinstance(x, Protocol | Threshold) else str(x),
)
def test_every_shipped_alert_fires_exactly_at_its_boundary(
    protocol: Protocol, threshold: Threshold
) -> None:
    alerting, safe = _boundary(threshold)
    alerts = vitals_alerts(protocol.alerts, _with(**{threshold.field.value: alerting}))
    assert [(a.code, a.threshold, a.comparator) for a in alerts] == [
        (threshold.code, threshold.value, threshold.comparator)
    ]
    assert vitals_alerts(protocol.alerts, _with(**{threshold.field.value: safe})) == []


def test_several_alerts_come_in_protocol_order() -> None:
    vitals = Vitals(
        systolic_mmhg=200, diastolic_mmhg=120, heart_rate_bpm=130, spo2_percent=85, moaas=1
    )
    assert [a.code for a in vitals_alerts(IV.alerts, vitals)] == [
        "sbp_high",
        "dbp_high",
        "hr_high",
        "spo2_low",
        "moaas_low",
    ]


def test_unmeasured_values_raise_no_alert() -> None:
    assert vitals_alerts(IV.alerts, Vitals()) == []


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"systolic_mmhg": 20}, ["systolic_mmhg"]),
        ({"systolic_mmhg": 400}, ["systolic_mmhg"]),
        ({"spo2_percent": 101}, ["spo2_percent"]),
        ({"spo2_percent": 49}, ["spo2_percent"]),
        ({"heart_rate_bpm": 19}, ["heart_rate_bpm"]),
        ({"respiratory_rate": -1}, ["respiratory_rate"]),
        ({"moaas": 6}, ["moaas"]),
        ({"systolic_mmhg": 400, "spo2_percent": 101}, ["systolic_mmhg", "spo2_percent"]),
        ({"diastolic_mmhg": 120}, ["diastolic_mmhg"]),  # not below the systolic 120
        ({"heart_rate_bpm": 72.5}, ["heart_rate_bpm"]),
        # the limits themselves are plausible
        ({"systolic_mmhg": 300, "spo2_percent": 100, "respiratory_rate": 0, "moaas": 0}, []),
        ({"systolic_mmhg": 40, "diastolic_mmhg": 20, "heart_rate_bpm": 250}, []),
    ],
)
def test_implausible_values_are_reported(changes: dict[str, Any], fields: list[str]) -> None:
    problems = vitals_check_plausible(vitals=_with(**changes), limits=IV.vitals_plausibility)
    assert [p.field for p in problems] == fields
    assert all(p.message for p in problems)


def test_implausible_message_names_the_limits() -> None:
    (problem,) = vitals_check_plausible(
        vitals=_with(spo2_percent=101), limits=IV.vitals_plausibility
    )
    assert problem.message.startswith("101 is outside the plausible range 50-100")


# --- pre-dose hold ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "codes"),
    [
        (140, 80, ["predose_sbp_high"]),
        (139, 80, []),
        (130, 90, ["predose_dbp_high"]),
        (130, 89, []),
        (150, 95, ["predose_sbp_high", "predose_dbp_high"]),
    ],
)
def test_predose_hold_boundaries(systolic: int, diastolic: int, codes: list[str]) -> None:
    decision = predose_hold(
        protocol=IV, vitals=_with(systolic_mmhg=systolic, diastolic_mmhg=diastolic)
    )
    assert [a.code for a in decision.alerts] == codes
    assert decision.hold is bool(codes)
    assert decision.missing == ()
    assert all(a.recommended_action is Action.HOLD for a in decision.alerts)


def test_predose_hold_when_blood_pressure_not_measured() -> None:
    decision = predose_hold(
        protocol=IV,
        vitals=Vitals(heart_rate_bpm=70, diastolic_mmhg=80, spo2_percent=98, respiratory_rate=14),
    )
    assert decision.hold is True
    assert decision.alerts == ()
    assert decision.missing == (VitalField.SYSTOLIC_MMHG,)


# --- discharge --------------------------------------------------------------------------------


def _discharge(**changes: Any) -> Any:
    inputs: dict[str, Any] = {
        "minutes_since_infusion_end": 60,
        "aldrete_total": 9,
        "escort_present": True,
        "protocol": IV,
    }
    inputs.update(changes)
    return discharge_check(**inputs)


def test_discharge_allowed_when_every_gate_is_met() -> None:
    decision = _discharge()
    assert decision.allowed is True
    assert decision.reasons == ()
    assert decision.overridden is False
    assert decision.override_reason is None


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({"minutes_since_infusion_end": 59}, ["observation_too_short"]),
        ({"aldrete_total": 8}, ["aldrete_below_gate"]),
        ({"escort_present": False}, ["no_escort"]),
        (
            {"minutes_since_infusion_end": 0, "aldrete_total": 5, "escort_present": False},
            ["observation_too_short", "aldrete_below_gate", "no_escort"],
        ),
        ({"protocol": ESKETAMINE, "minutes_since_infusion_end": 119}, ["observation_too_short"]),
        ({"protocol": ESKETAMINE, "minutes_since_infusion_end": 120}, []),
        ({"minutes_since_infusion_end": 600, "aldrete_total": 10}, []),
    ],
)
def test_discharge_lists_every_unmet_gate(changes: dict[str, Any], codes: list[str]) -> None:
    decision = _discharge(**changes)
    assert [r.code for r in decision.reasons] == codes
    assert decision.allowed is (codes == [])


def test_discharge_override_allows_and_keeps_the_reasons() -> None:
    decision = _discharge(
        minutes_since_infusion_end=45,
        aldrete_total=8,
        override_reason=" Dr Ada reviewed: alert, steady gait, partner waiting in the car ",
    )
    assert decision.allowed is True
    assert decision.overridden is True
    assert decision.override_reason == (
        "Dr Ada reviewed: alert, steady gait, partner waiting in the car"
    )
    assert [r.code for r in decision.reasons] == ["observation_too_short", "aldrete_below_gate"]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_blank_discharge_override_is_no_override(reason: str | None) -> None:
    decision = _discharge(escort_present=False, override_reason=reason)
    assert decision.allowed is False
    assert decision.overridden is False


def test_override_without_unmet_gates_is_not_recorded() -> None:
    decision = _discharge(override_reason="not needed")
    assert decision.allowed is True
    assert decision.overridden is False
    assert decision.override_reason is None


def test_escort_not_required_when_protocol_says_so() -> None:
    discharge = dataclasses.replace(
        IV.discharge,
        escort_required=dataclasses.replace(IV.discharge.escort_required, value=False),
    )
    protocol = dataclasses.replace(IV, discharge=discharge)
    assert _discharge(protocol=protocol, escort_present=False).allowed is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"minutes_since_infusion_end": -1}, "has not ended"),
        ({"aldrete_total": 11}, "between 0 and 10"),
        ({"aldrete_total": -1}, "between 0 and 10"),
        ({"aldrete_total": True}, "whole number"),
        ({"minutes_since_infusion_end": 60.0}, "whole minutes"),
    ],
)
def test_discharge_refuses_impossible_inputs(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _discharge(**changes)
