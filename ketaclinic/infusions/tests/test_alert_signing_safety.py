"""Signing needs every alert acknowledged; acknowledging a stop, pause or call-the-prescriber
alert needs a note of what was done, which is kept in the signed record, on the chart page and in
the printable record (issue 12, item 5)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.infusions.chart_models import (
    ChartEntry,
    ChartEntryKind,
    SessionAlert,
    SignedRecord,
)
from ketaclinic.infusions.monitoring import alert_needs_note
from ketaclinic.infusions.protocols import Action
from ketaclinic.infusions.tests.chart_driver import Chart
from ketaclinic.testing import pdf_text

pytestmark = pytest.mark.django_db

NOTE = "Infusion stopped, airway supported, SpO2 back to 97% on room air; Dr Ada informed."


@pytest.mark.parametrize(
    ("actions", "needed"),
    [
        ((Action.STOP, Action.CALL_PRESCRIBER), True),
        ((Action.PAUSE, Action.RECHECK), True),
        ((Action.SLOW, Action.RECHECK, Action.CALL_PRESCRIBER), True),
        ((Action.RECHECK,), False),
        ((Action.SLOW, Action.RECHECK), False),
    ],
)
def test_which_alerts_need_a_note(actions: tuple[Action, ...], needed: bool) -> None:
    assert alert_needs_note(actions) is needed


def _discharged_with_a_stop_alert(chart: Chart) -> SessionAlert:
    chart.infusing()
    raised = chart.vitals(spo2=90)
    assert raised.status_code == 201
    assert [a["code"] for a in raised.json()["alerts"]] == ["spo2_low"]
    assert chart.stop().status_code == 200
    ChartEntry.objects.filter(session=chart.session, kind=ChartEntryKind.INFUSION_STOP).update(
        at=timezone.now() - timedelta(minutes=61)
    )
    assert chart.discharge().status_code == 200
    return SessionAlert.objects.get(session=chart.session)


def _ack(chart: Chart, alert: SessionAlert, body: dict[str, Any], who: str = "ben") -> Any:
    return chart.post(f"/alerts/{alert.pk}/acknowledge", body, who=who)


def test_signing_is_refused_while_an_alert_is_open_and_names_it(chart: Chart) -> None:
    alert = _discharged_with_a_stop_alert(chart)
    refused = chart.post("/sign")
    assert refused.status_code == 409
    reasons = " ".join(refused.json()["reasons"])
    assert "acknowledged" in reasons
    assert "SpO2 below 92%" in reasons
    assert "90" in reasons
    assert not chart.session.signatures.exists()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}])
def test_acknowledging_a_stop_alert_without_a_note_is_refused(
    chart: Chart, body: dict[str, Any]
) -> None:
    alert = _discharged_with_a_stop_alert(chart)
    response = _ack(chart, alert, body)
    assert response.status_code == 422
    assert "note" in json.dumps(response.json())
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert alert.acknowledgement_note == ""


def test_an_acknowledged_alert_with_its_note_lets_the_session_be_signed(chart: Chart) -> None:
    alert = _discharged_with_a_stop_alert(chart)
    acked = _ack(chart, alert, {"note": NOTE})
    assert acked.status_code == 200, acked.content
    assert acked.json()["acknowledged"] is True
    assert acked.json()["acknowledgement_note"] == NOTE
    for who in ("ben", "ada"):
        assert chart.post("/sign", who=who).status_code == 200
    snapshot = json.loads(SignedRecord.objects.get(session=chart.session).snapshot_json)
    assert snapshot["alerts"][0]["acknowledgement_note"] == NOTE
    assert snapshot["alerts"][0]["acknowledged_by"] == "ben"

    page = chart.clinic.client("ada").get(f"/infusions/sessions/{chart.session.pk}/")
    assert NOTE in page.content.decode()
    pdf = chart.clinic.client("ada").get(f"/infusions/sessions/{chart.session.pk}/record.pdf")
    assert "airway supported" in " ".join(pdf_text(pdf.content).split())


def test_an_alert_may_be_acknowledged_after_discharge(chart: Chart) -> None:
    alert = _discharged_with_a_stop_alert(chart)
    assert chart.refresh().status == "discharged"
    assert _ack(chart, alert, {"note": NOTE}).status_code == 200


# --- the chart page ---------------------------------------------------------------------------


def test_the_page_refuses_an_acknowledgement_without_a_note_beside_the_field(
    chart: Chart,
) -> None:
    alert = _discharged_with_a_stop_alert(chart)
    client = chart.clinic.client("ben")
    url = f"/infusions/sessions/{chart.session.pk}/alerts/{alert.pk}/acknowledge/"
    response = client.post(url, {"note": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_alert_{alert.pk}_note_errors"' in html
    assert "Note what was done" in html
    alert.refresh_from_db()
    assert alert.acknowledged_at is None

    done = client.post(url, {"note": NOTE})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledgement_note == NOTE


def test_the_page_refuses_signing_with_an_open_alert_and_lists_it(chart: Chart) -> None:
    _discharged_with_a_stop_alert(chart)
    client = chart.clinic.client("ben")
    response = client.post(f"/infusions/sessions/{chart.session.pk}/sign/", {"confirm": "on"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "SpO2 below 92%" in html
    assert "acknowledged" in html
    assert not chart.session.signatures.exists()


def test_the_board_sends_a_note_needing_alert_to_the_chart(chart: Chart) -> None:
    chart.infusing()
    chart.vitals(spo2=90)
    alert = SessionAlert.objects.get(session=chart.session)
    html = chart.clinic.client("ben").get("/infusions/board/rows/").content.decode()
    assert f"/alerts/{alert.pk}/acknowledge/" not in html
    assert f"/infusions/sessions/{chart.session.pk}/#alert-{alert.pk}" in html


def test_the_clinicians_pre_dose_review_acknowledges_the_hold_alerts(chart: Chart) -> None:
    chart.ready()
    assert chart.vitals(spo2=91).json()["hold"] is True
    review = {"reason": "Baseline SpO2 91% is her usual (COPD); proceed, watch closely"}
    assert chart.post("/clinician-review", review, who="ada").status_code == 201
    alert = SessionAlert.objects.get(session=chart.session, code="predose_spo2_low")
    assert alert.acknowledged_by == chart.clinic.users["ada"]
    assert "her usual (COPD)" in alert.acknowledgement_note
