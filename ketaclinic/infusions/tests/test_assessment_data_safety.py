"""The chart's assessment ranges and the REMS form's blood-pressure timepoint come from data:
the CADSS and MOAA/S ranges from the scales' instrument definitions, the 0-4 dissociation rating
and the timepoint from the protocol, each with its source (issue 12, item 9)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from ketaclinic.infusions.assessments import assessment_ranges
from ketaclinic.infusions.chart_snapshot import rems_form
from ketaclinic.infusions.protocols import (
    INTRANASAL_ESKETAMINE_56_MG,
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    protocol_from_dict,
    shipped_protocol,
)
from ketaclinic.infusions.tests.chart_driver import Chart
from ketaclinic.scales import instruments

IV = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
ESKETAMINE = shipped_protocol(INTRANASAL_ESKETAMINE_56_MG)


def _shipped_data(name: str) -> dict[str, Any]:
    package = resources.files("ketaclinic.infusions.protocols")
    data: dict[str, Any] = json.loads(
        (package / name).read_text(encoding="utf-8"), parse_float=Decimal
    )
    return data


def test_the_shipped_ranges_come_from_the_instruments_and_the_protocol() -> None:
    ranges = assessment_ranges(IV, instruments.get)
    assert (ranges["cadss"].low, ranges["cadss"].high) == (0, 92)
    assert ranges["cadss"].source == instruments.get("cadss").source
    assert (ranges["moaas"].low, ranges["moaas"].high) == (0, 5)
    assert "Chernik 1990" in ranges["moaas"].source
    assert (ranges["dissociation_0_4"].low, ranges["dissociation_0_4"].high) == (0, 4)
    assert ranges["dissociation_0_4"].source == IV.monitoring.dissociation_rating.source  # type: ignore[union-attr]


def test_changing_an_instrument_changes_its_accepted_range() -> None:
    cadss = instruments.get("cadss")
    short = replace(cadss, scoring=replace(cadss.scoring, max_total=24))

    def lookup(code: str) -> Any:
        return short if code == "cadss" else instruments.get(code)

    assert assessment_ranges(IV, lookup)["cadss"].high == 24


def test_changing_the_protocol_changes_the_dissociation_rating_range() -> None:
    data = _shipped_data("iv_racemic_ketamine_0_5_mg_kg_40_min.json")
    data["monitoring"]["dissociation_rating"]["high"] = 10
    edited = protocol_from_dict(data)
    assert assessment_ranges(edited, instruments.get)["dissociation_0_4"].high == 10


def test_a_protocol_without_the_rating_does_not_offer_it() -> None:
    data = _shipped_data("iv_racemic_ketamine_0_5_mg_kg_40_min.json")
    del data["monitoring"]["dissociation_rating"]
    edited = protocol_from_dict(data)
    assert "dissociation_0_4" not in assessment_ranges(edited, instruments.get)


@pytest.mark.django_db
def test_the_chart_refuses_a_score_outside_the_instruments_range(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    chart.infusing()
    at = chart.refresh().start.isoformat()

    def post(score: int) -> Any:
        return chart.post("/assessments", {"at": at, "instrument": "moaas", "score": score})

    assert post(5).status_code == 201
    moaas = instruments.get("moaas")
    four = replace(moaas, scoring=replace(moaas.scoring, max_total=4))
    real_get = instruments.get
    monkeypatch.setattr(
        "ketaclinic.scales.instruments.get",
        lambda code: four if code == "moaas" else real_get(code),
    )
    refused = post(5)
    assert refused.status_code == 422
    assert "between 0 and 4" in json.dumps(refused.json())
    assert post(4).status_code == 201


# --- the REMS form's timepoint ----------------------------------------------------------------


def test_the_esketamine_protocol_holds_the_rems_timepoint_with_its_source() -> None:
    after = ESKETAMINE.monitoring.bp_after_dose_minutes
    assert after is not None
    assert after.value == 40
    assert "REMS" in after.source
    assert IV.monitoring.bp_after_dose_minutes is None


def _vitals(minute: int, systolic: int) -> dict[str, Any]:
    return {
        "at": f"2026-01-05T10:{minute:02d}:00.000000Z",
        "phase": "infusing",
        "systolic_mmhg": systolic,
        "diastolic_mmhg": 80,
        "moaas": None,
    }


SNAPSHOT: dict[str, Any] = {
    "protocol": {"medication": "esketamine"},
    "administered_mg": "56",
    "doses": [],
    "alerts": [],
    "entries": [{"kind": "infusion_start", "at": "2026-01-05T10:00:00.000000Z", "data": {}}],
    "vitals": [_vitals(10, 130), _vitals(40, 150), _vitals(55, 140)],
}


@pytest.mark.parametrize(("minutes", "bp"), [(40, "150/80"), (55, "140/80"), (10, "130/80")])
def test_the_rems_bp_timepoint_follows_the_protocol(minutes: int, bp: str) -> None:
    form = rems_form(SNAPSHOT, bp_after_dose_minutes=minutes)
    assert form["bp_after_dose_minutes"] == minutes
    assert form["bp_after_dose"] == bp


def test_without_a_timepoint_the_form_leaves_it_blank() -> None:
    form = rems_form(SNAPSHOT, bp_after_dose_minutes=None)
    assert form["bp_after_dose"] is None
