"""Pre-dose holds cover every monitored vital, not only blood pressure (issue 12, item 8).

A baseline SpO2 below 92 %, a heart rate of 110/min or more or a respiratory rate below 10/min
holds the dose for a clinician's review, as blood pressure at or above 140/90 does; each hold is
protocol data with its source, and an edited protocol moves the boundary."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from ketaclinic.infusions.monitoring import Vitals, predose_hold
from ketaclinic.infusions.protocols import (
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    Action,
    Protocol,
    VitalField,
    protocol_from_dict,
    shipped_protocol,
    shipped_protocols,
)
from ketaclinic.infusions.tests.chart_driver import Chart

IV = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
CALM = Vitals(
    systolic_mmhg=120, diastolic_mmhg=80, heart_rate_bpm=72, spo2_percent=98, respiratory_rate=14
)
MONITORED_BEFORE_THE_DOSE = {
    VitalField.SYSTOLIC_MMHG,
    VitalField.DIASTOLIC_MMHG,
    VitalField.HEART_RATE_BPM,
    VitalField.SPO2_PERCENT,
    VitalField.RESPIRATORY_RATE,
}
"""MOAA/S is not taken at baseline (a patient about to be dosed is alert)."""

BOUNDARIES = [
    ({"spo2_percent": 91}, ["predose_spo2_low"]),
    ({"spo2_percent": 92}, []),
    ({"heart_rate_bpm": 110}, ["predose_hr_high"]),
    ({"heart_rate_bpm": 109}, []),
    ({"respiratory_rate": 9}, ["predose_rr_low"]),
    ({"respiratory_rate": 10}, []),
]


@pytest.mark.parametrize("protocol", shipped_protocols(), ids=lambda p: p.code)
def test_every_shipped_protocol_holds_on_every_monitored_vital(protocol: Protocol) -> None:
    fields = {hold.field for hold in protocol.predose_holds}
    assert fields >= MONITORED_BEFORE_THE_DOSE
    during = {alert.field for alert in protocol.alerts}
    assert during - {VitalField.MOAAS} <= fields
    for hold in protocol.predose_holds:
        assert hold.actions[0] is Action.HOLD
        assert hold.source.strip()


@pytest.mark.parametrize("protocol", shipped_protocols(), ids=lambda p: p.code)
@pytest.mark.parametrize(("changes", "codes"), BOUNDARIES)
def test_predose_hold_boundaries_of_each_vital(
    protocol: Protocol, changes: dict[str, int], codes: list[str]
) -> None:
    decision = predose_hold(protocol=protocol, vitals=replace(CALM, **changes))
    assert [alert.code for alert in decision.alerts] == codes
    assert decision.hold is bool(codes)


def _iv_data() -> dict[str, Any]:
    package = resources.files("ketaclinic.infusions.protocols")
    text = (package / "iv_racemic_ketamine_0_5_mg_kg_40_min.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def test_an_edited_protocol_moves_the_spo2_hold() -> None:
    data = _iv_data()
    for hold in data["predose_holds"]:
        if hold["code"] == "predose_spo2_low":
            hold["value"] = 94
            hold["source"] = "medical director, 2026 edit"
    edited = protocol_from_dict(data)
    assert predose_hold(protocol=edited, vitals=replace(CALM, spo2_percent=93)).hold
    assert not predose_hold(protocol=IV, vitals=replace(CALM, spo2_percent=93)).hold


def test_a_protocol_without_the_hold_does_not_hold() -> None:
    data = _iv_data()
    data["predose_holds"] = [h for h in data["predose_holds"] if h["code"] != "predose_hr_high"]
    edited = protocol_from_dict(data)
    assert not predose_hold(protocol=edited, vitals=replace(CALM, heart_rate_bpm=130)).hold


# --- through the chart: the start check -----------------------------------------------------


def _reasons(response: Any) -> str:
    return " ".join(response.json()["reasons"])


API_BOUNDARIES = [
    ({"spo2": 91}, "SpO2 below 92%"),
    ({"heart_rate": 110}, "Heart rate at or above 110/min"),
    ({"resp_rate": 9}, "Respiratory rate below 10/min"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("values", "message"), API_BOUNDARIES)
def test_baseline_vital_out_of_range_holds_the_start_until_a_clinician_reviews(
    chart: Chart, values: dict[str, Any], message: str
) -> None:
    chart.ready()
    response = chart.vitals(**values)
    assert response.status_code == 201
    assert response.json()["hold"] is True
    refused = chart.start()
    assert refused.status_code == 409
    assert "clinician must review" in _reasons(refused)
    assert message in _reasons(refused)
    review = chart.post("/clinician-review", {"reason": "Reviewed, known baseline"}, who="ada")
    assert review.status_code == 201
    assert chart.start().status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("values", [{"spo2": 92}, {"heart_rate": 109}, {"resp_rate": 10}])
def test_baseline_vital_just_inside_the_range_does_not_hold(
    chart: Chart, values: dict[str, Any]
) -> None:
    chart.ready()
    response = chart.vitals(**values)
    assert response.json() == response.json() | {"hold": False, "alerts": []}
    assert chart.start().status_code == 200


@pytest.mark.django_db
def test_a_clinic_on_the_older_shipped_text_gets_a_new_version_with_the_holds() -> None:
    """The data migration: the unedited shipped version without the new holds is followed by a
    new version with them; courses keep the version they started on."""
    import importlib

    from django.apps import apps

    from ketaclinic.courses.models import Protocol as ProtocolRow
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure

    shipped_rows_ensure()
    migration = importlib.import_module(
        "ketaclinic.courses.migrations.0003_shipped_protocols_predose_holds"
    )
    old = _iv_data()
    old["predose_holds"] = old["predose_holds"][:2]  # BP only, as first shipped
    row = ProtocolRow.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    ProtocolRow.objects.filter(pk=row.pk).update(
        definition_json=json.dumps(old, default=str), version=1
    )
    migration.add_shipped_versions(apps, None)
    newest = ProtocolRow.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    assert newest.version == 2
    assert "predose_spo2_low" in {h.code for h in newest.definition().predose_holds}
    assert not ProtocolRow.objects.get(pk=row.pk).active
    migration.add_shipped_versions(apps, None)  # again: nothing more to do
    assert ProtocolRow.objects.filter(code=IV_RACEMIC_0_5_MG_KG_40_MIN).count() == 2
