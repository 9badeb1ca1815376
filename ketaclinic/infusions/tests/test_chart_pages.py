"""The chart's pages: the chair board (rows, highlighting, a fixed number of queries), the
session chart with its plot data, the printable record, and esketamine's REMS form data."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.courses.models import PrescriberPresence
from ketaclinic.infusions.models import ChartEntry, SessionAlert
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for, prescriber_on_site_today
from ketaclinic.testing import pdf_text

pytestmark = pytest.mark.django_db


def test_the_board_lists_active_sessions_with_alerts_and_overdue_vitals(chart: Chart) -> None:
    chart.infusing()
    chart.vitals(spo2=90)
    twenty_minutes_ago = timezone.now() - timedelta(minutes=20)
    chart.session.vitals.update(at=twenty_minutes_ago)
    chart.session.chart_entries.update(at=twenty_minutes_ago)
    html = chart.clinic.client("ben").get("/infusions/board/").content.decode()
    assert "Example, Pat" in html
    assert "chair-tile tile-infusing has-alert" in html
    assert "1 open alert." in html
    assert "SpO2 below 92%: stop the infusion" in html
    assert "spo2_low" not in html  # the clinic's words, not the protocol's code
    assert "(overdue)" in html  # vitals every 5 min during the infusion
    assert "20 min left" in html  # a 40 min infusion started 20 min ago
    assert 'hx-trigger="every 3s"' in html


def test_acknowledged_alerts_leave_the_board(chart: Chart) -> None:
    chart.infusing()
    alert = chart.vitals(heart_rate=120).json()["alerts"][0]
    client = chart.clinic.client("ben")
    before = client.get("/infusions/board/rows/").content.decode()
    assert "Heart rate at or above 110/min" in before
    response = client.post(
        f"/infusions/sessions/{chart.session.pk}/alerts/{alert['id']}/acknowledge/",
        {"note": "Infusion slowed; Dr Ada called"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Heart rate at or above 110/min" not in response.content.decode()
    assert "open alert" not in response.content.decode()
    assert SessionAlert.objects.get(pk=alert["id"]).acknowledged_at is not None


def _three_more_infusing_and_one_booked(chart: Chart) -> None:
    """Three more chairs infusing, four readings and alerts each, and one booked chair."""
    for n in range(3):
        other = chart_for(chart.clinic, chair=f"Chair {n + 10}")
        other.infusing(calculator="ada", witness="ben")
        for _ in range(4):
            other.vitals(heart_rate=121)
    chart_for(chart.clinic, chair="Chair 20")  # booked, not arrived


def test_board_tiles_take_a_fixed_number_of_queries(chart: Chart) -> None:
    """Whatever the number of chairs, sessions, readings and alerts (and the history behind
    them), the board's refresh takes the same number of queries."""
    chart.infusing()
    chart.vitals(heart_rate=120)
    client = chart.clinic.client("ben")
    client.get("/infusions/board/rows/")  # warm the protocol cache
    with CaptureQueriesContext(connection) as one:
        client.get("/infusions/board/rows/")
    _three_more_infusing_and_one_booked(chart)
    with CaptureQueriesContext(connection) as four:
        response = client.get("/infusions/board/rows/")
    assert response.content.decode().count("Heart rate at or above 110/min") == 4
    assert "+3 more on the chart" in response.content.decode()  # four alerts, one line
    assert len(four) == len(one) <= 14


def test_the_chart_page_holds_the_plot_data_with_thresholds_and_events(chart: Chart) -> None:
    chart.infusing()
    chart.vitals(systolic=150)
    chart.post("/infusion", {"action": "pause", "reason": "BP"})
    page = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="/static/js/infusion-chart.js"' in html
    assert "<script>" not in html  # CSP: no inline scripts
    start = html.index('<script id="session-chart-data" type="application/json">')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    panels = {panel["key"]: panel for panel in data["panels"]}
    assert list(panels) == ["bp_hr", "spo2", "rr", "moaas"]  # one panel per scale
    systolic = next(s for s in panels["bp_hr"]["series"] if s["field"] == "systolic_mmhg")
    assert [p["y"] for p in systolic["points"]] == [120, 150]
    assert {
        "field": "systolic_mmhg",
        "value": 180,
        "label": "alert: systolic \u2265 180",
        "predose": False,
    } in panels["bp_hr"]["thresholds"]
    assert {t["field"] for t in panels["spo2"]["thresholds"]} == {"spo2_percent"}
    assert panels["spo2"]["y_min"] >= 80  # SpO2 on its own scale, not 0-200
    assert (panels["moaas"]["y_min"], panels["moaas"]["y_max"]) == (0, 5)
    assert data["x_min"] < min(p["x"] for p in systolic["points"])
    assert data["x_max"] > max(p["x"] for p in systolic["points"])
    assert data["zone"] == settings.TIME_ZONE
    assert [e["label"] for e in data["events"]] == ["Infusion started", "Infusion paused"]


def test_the_printable_record_is_a_pdf_with_everything(chart: Chart) -> None:
    chart.infusing()
    chart.vitals(heart_rate=118)
    response = chart.clinic.client("ada").get(f"/infusions/sessions/{chart.session.pk}/record.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    # The chart's order: header, alerts, vital signs (graph and table), dose, history.
    order = [text.index(h) for h in ("(Alerts)", "(Vital signs)", "(Dose)", "(History)")]
    assert order == sorted(order)
    assert "Heart rate at or above 110/min: slow the infusion" in text
    for panel in ("Blood pressure and heart rate", "Oxygen saturation", "Respiratory rate"):
        assert panel in text  # one graph panel per scale
    assert re.search(r"\((?:[01]\d|2[0-3]):[0-5]\d\) Tj", text)  # 24-hour time ticks
    assert " re " in text or " l S" in text or " l\n" in text  # lines drawn
    assert "Page 1 of " in text and "times in " in text
    assert "Pre-checks: identity, consent, fasting, escort, questionnaires confirmed" in text
    assert "{'" not in text and "checked_in" not in text and "hr_high" not in text


def test_the_esketamine_chart_gives_the_rems_monitoring_form_data(chart: Chart) -> None:
    eske = chart_for(chart.clinic, code=INTRANASAL_ESKETAMINE_56_MG, chair="Nasal chair")
    for response in (
        eske.check_in(),
        eske.prechecks(),
        eske.vitals(systolic=128, diastolic=82),
        eske.post("/dose", {}),
        eske.second_check(),
        eske.draw(),
        eske.start(),
    ):
        assert response.status_code in (200, 201), response.content
    start = timezone.now() - timedelta(minutes=160)
    ChartEntry.objects.filter(session=eske.session, kind="infusion_start").update(at=start)
    at_40 = eske.vitals(systolic=150, diastolic=92, at=start + timedelta(minutes=40))
    assert at_40.status_code == 201
    eske.post("/assessments", {"at": timezone.now().isoformat(), "instrument": "cadss", "score": 9})
    stop = eske.post("/stop", {})
    assert stop.status_code == 200
    assert stop.json()["administered_mg"] in ("56", "56.0000", "56.0")
    ChartEntry.objects.filter(session=eske.session, kind="infusion_stop").update(
        at=timezone.now() - timedelta(minutes=121)
    )
    ChartEntry.objects.filter(session=eske.session, kind="check_in").update(
        at=timezone.now() - timedelta(minutes=170)
    )
    eske.vitals(systolic=126, diastolic=80)
    assert eske.discharge().status_code == 200
    rems = eske.ben.get(eske.url).json()["rems"]
    assert rems["medication"] == "esketamine"
    assert rems["bp_before_dosing"] == "128/82"
    assert rems["bp_after_dose_minutes"] == 40
    assert rems["bp_after_dose"] == "150/92"
    assert rems["bp_before_discharge"] == "126/80"
    assert rems["dissociation_highest"] == 9
    assert rems["total_monitored_minutes"] >= 170
    assert rems["respiratory_depression"] is False
    assert chart.ben.get(chart.url).json()["rems"] is None  # racemic IV: no REMS form
    pdf = eske.clinic.client("ben").get(f"/infusions/sessions/{eske.session.pk}/record.pdf")
    assert pdf.status_code == 200


def test_the_chart_and_its_printout_show_times_in_the_clinic_zone(
    chart: Chart, settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    # The chart was set up in the suite's zone; New York's date may be another (the infusion
    # needs a prescriber on site on the clinic's date).
    if not PrescriberPresence.objects.filter(date=timezone.localdate()).exists():
        prescriber_on_site_today(chart.clinic)
    chart.infusing()
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=2)
    assert chart.vitals(at=at, heart_rate=118).status_code == 201
    local = at.astimezone(ZoneInfo("America/New_York"))
    shown = f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"
    utc_text = f"{at:%Y-%m-%dT%H:%M:%S}"
    page = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/")
    assert shown in page.content.decode()
    assert utc_text not in page.content.decode()
    pdf = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/record.pdf")
    text = pdf_text(pdf.content)
    assert f"{shown}  Vital signs during the infusion: BP 120/80 mmHg, HR 118/min" in text
    assert "times in America/New_York" in text
    assert utc_text not in text


def test_the_chart_page_and_its_record_take_a_fixed_number_of_queries(chart: Chart) -> None:
    """However long the session's history (readings, alerts, changes, side effects), the
    chart page and the printed record read it in the same number of queries."""
    chart.infusing()
    client = chart.clinic.client("ben")
    url = f"/infusions/sessions/{chart.session.pk}/"
    client.get(url)  # warm the protocol cache
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as short_pdf:
        assert client.get(url + "record.pdf").status_code == 200
    for n in range(12):
        at = timezone.now() - timedelta(minutes=40 - n)
        assert chart.vitals(at=at, heart_rate=115 + n % 3, spo2=97).status_code == 201
    for action in ("pause", "resume", "rate_change"):
        body = {"action": action, "reason": "noted", "rate_ml_per_h": 120}
        assert chart.post("/infusion", body).status_code == 201
    with CaptureQueriesContext(connection) as long:
        page = client.get(url)
    with CaptureQueriesContext(connection) as long_pdf:
        assert client.get(url + "record.pdf").status_code == 200
    assert page.content.decode().count("Heart rate at or above 110/min") >= 12
    assert len(long) == len(short)
    assert len(long_pdf) == len(short_pdf)
    # The whole request, pinned (the audit write: one statement on PostgreSQL).
    # +1: the unread-message count in the staff navigation (ketaclinic/messaging/).
    assert len(short) == {"sqlite": 18, "postgresql": 16}[connection.vendor], len(short)


def test_the_board_page_takes_a_fixed_number_of_queries(chart: Chart) -> None:
    """The chair board's whole page, like its refresh: the same queries with one chair in use
    as with four, their readings and alerts, and the history behind them."""
    chart.infusing()
    chart.vitals(heart_rate=120)
    client = chart.clinic.client("ben")
    client.get("/infusions/board/")  # warm the protocol cache
    with CaptureQueriesContext(connection) as one:
        assert client.get("/infusions/board/").status_code == 200
    _three_more_infusing_and_one_booked(chart)
    with CaptureQueriesContext(connection) as four:
        response = client.get("/infusions/board/")
    assert response.content.decode().count("Heart rate at or above 110/min") == 4
    assert len(four) == len(one)
    # +1: the unread-message count in the staff navigation (ketaclinic/messaging/).
    assert len(one) == {"sqlite": 15, "postgresql": 13}[connection.vendor], len(one)


def test_the_chart_header_names_the_state_dose_and_timer_in_the_clinic_zone(
    chart: Chart, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Kolkata"  # +05:30: a zone a UTC clock would get wrong
    if not PrescriberPresence.objects.filter(date=timezone.localdate()).exists():
        prescriber_on_site_today(chart.clinic)  # "today" in that zone may be tomorrow in UTC
    chart.infusing()
    start = ChartEntry.objects.get(session=chart.session, kind="infusion_start")
    html = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/").content
    text = html.decode()
    local = start.at.astimezone(ZoneInfo("Asia/Kolkata"))
    assert '<span class="state-pill state-infusing">Infusing</span>' in text
    assert "Dose <strong>36.3 mg</strong>" in text
    assert f"of 40 min <small>(from {local:%H:%M})</small>" in text
    assert f'data-since="{start.at.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()}"' in text


def test_a_monitor_set_without_a_cuff_reading_shows_dashes_not_none(chart: Chart) -> None:
    """A bedside monitor sends SpO2 and pulse every few seconds and the cuff only now and then:
    the chart's "last" line says what is missing with a dash, never Python's None."""
    from ketaclinic.infusions.models import VitalsReading

    chart.infusing()
    VitalsReading.objects.create(
        session=chart.session,
        at=timezone.now(),
        phase="infusing",
        heart_rate_bpm=71,
        spo2_percent=97,
        source="monitor",
        device="Bed 1 monitor",
    )
    text = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/").content
    last = re.search(r'<p class="vitals-last">(.*?)</p>', text.decode(), re.S)
    assert last is not None
    line = re.sub(r"<[^>]+>", "", last.group(1))
    assert "None" not in line
    assert "BP —, HR 71, SpO2 97%, RR —" in line
