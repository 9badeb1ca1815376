"""End to end in real headless Chromium: a simulated monitor on a chair with an infusing
session sends an SpO2 of 90 over MLLP; the stop alert shows on the chair board within 10 s;
the nurse confirms the batch on the chart; the readings are in the signed record and the PDF,
marked as from the monitor. Also the pages this feature adds, with screenshots at 1366 and
820 px: the devices page, the unassigned queue and the confirm batch."""

from __future__ import annotations

import asyncio
import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.courses.models import Chair
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, SessionAlert, SignedRecord
from ketaclinic.infusions.pdf import record_pdf_bytes
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.monitors.management.commands.monitors import simulate
from ketaclinic.monitors.models import MonitorDevice
from ketaclinic.monitors.services import message_receive
from ketaclinic.monitors.tests.conftest import message
from ketaclinic.monitors.tests.harness import listener_running
from ketaclinic.testing import PASSWORD, make_clinic, pdf_text
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, screenshots, session_given, sign_in

chromium_path = harness.chromium_path
browser = harness.browser

ALERT_WITHIN_MS = 10_000
DEVICE = "00A0C8FFFE3C0003"

pytestmark = pytest.mark.browser


@pytest.fixture
def infusing(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> Chart:
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(make_clinic(), chair="Chair 3")
    chart.infusing()
    MonitorDevice.objects.create(
        name="B125 by chair 3", device_id=DEVICE, chair=Chair.objects.get(name="Chair 3")
    )
    return chart


def test_a_monitor_spo2_of_90_alerts_the_board_and_the_confirmed_batch_is_in_the_record(
    infusing: Chart, browser: Browser, live_server: LiveServer
) -> None:
    page = browser.page
    session_given(page, live_server.url, infusing.clinic.users["ben"])
    page.goto("/infusions/board/")
    row = page.locator(f'article[data-session="{infusing.session.pk}"]')  # the chair's tile
    expect(row.locator(".tile-alert")).to_have_count(0)

    with listener_running() as port, ThreadPoolExecutor(1) as pool:
        # Playwright's sync API holds an event loop in this thread: the monitor runs in another.
        accepted = pool.submit(
            asyncio.run,
            simulate(
                "127.0.0.1",
                port,
                device_id=DEVICE,
                facility="KETACLINIC-DEMO",
                bed="Chair 3",
                interval=0.1,
                count=1,
                spo2=90,
                quirks=False,
                rng=random.Random(3),  # noqa: S311 - simulated vital signs
                out=lambda _text: None,
            ),
        ).result(timeout=30)
    assert accepted == 1

    alert = row.locator(".tile-alert")  # the board's tiles show the alert in the clinic's words
    expect(alert).to_contain_text("SpO2 below 92%", timeout=ALERT_WITHIN_MS)
    expect(row).to_contain_text("from monitor")

    page.goto(f"/infusions/sessions/{infusing.session.pk}/")
    batch = page.locator("#monitor-batch")
    expect(batch).to_contain_text("2 readings to confirm")
    expect(batch).to_contain_text("90")
    batch.scroll_into_view_if_needed()
    screenshots(page, "monitors-confirm-batch")
    batch.get_by_role("button", name="Confirm 2 readings").click()
    expect(page.locator("#monitor-batch")).to_have_count(0)
    expect(page.locator("tr.from-monitor").first).to_contain_text("confirmed by ben")
    browser.problems.assert_none()

    # The stop alert is acknowledged with what was done; the session runs to its signature.
    spo2_alert = SessionAlert.objects.get(session=infusing.session, code="spo2_low")
    response = infusing.post(
        f"/alerts/{spo2_alert.pk}/acknowledge", {"note": "Infusion stopped, oxygen, Dr Ada called"}
    )
    assert response.status_code == 200, response.content
    assert infusing.stop().status_code == 200
    ChartEntry.objects.filter(session=infusing.session, kind=ChartEntryKind.INFUSION_STOP).update(
        at=timezone.now() - timedelta(minutes=61)
    )
    response = infusing.discharge()
    assert response.status_code == 200, response.content
    for who in ("ben", "ada"):
        response = infusing.post("/sign", who=who)
        assert response.status_code == 200, response.content
    record = json.loads(SignedRecord.objects.get(session=infusing.session).snapshot_json)
    from_monitor = [v for v in record["vitals"] if v["source"] == "monitor"]
    assert sorted(v["spo2_percent"] or 0 for v in from_monitor) == [0, 90]
    assert all(v["confirmed_by"] and v["device"].startswith("B125") for v in from_monitor)
    text = pdf_text(record_pdf_bytes(infusing.refresh()))
    assert "FROM MONITOR B125 by chair 3" in text
    assert "SpO2 90" in text


def test_the_devices_page_and_the_unassigned_queue(
    infusing: Chart, browser: Browser, live_server: LiveServer
) -> None:
    page = browser.page
    message_receive(message(control="Q1", spo2=94, hr=88))  # an unregistered monitor (GE id)
    page.goto(live_server.url)
    sign_in(page, "dana", PASSWORD, infusing.clinic.totp["dana"])  # administrators use 2FA
    page.goto("/monitors/devices/")
    expect(page.get_by_role("heading", name="Bedside monitors")).to_be_visible()
    page.get_by_label("Name").fill("Efficia by chair 1")
    page.get_by_label("Chair").select_option(label="Chair 3")
    page.get_by_label("Device id").fill("EFFICIA-CM12-0099")
    page.get_by_role("button", name="Register the monitor").click()
    expect(page.locator("table")).to_contain_text("Efficia by chair 1")
    screenshots(page, "monitors-devices")
    browser.problems.assert_none()

    session_given(page, live_server.url, infusing.clinic.users["ben"])
    page.goto("/monitors/unassigned/")
    card = page.locator("article").first
    expect(card).to_contain_text("from an unregistered monitor")
    expect(card).to_contain_text("not registered")
    expect(card).to_contain_text("SpO2 94%")
    screenshots(page, "monitors-unassigned")
    card.get_by_label("Chart to").select_option(index=1)
    card.get_by_role("button", name="Chart these readings").click()
    expect(page.get_by_text("2 reading(s) charted to Chair 3")).to_be_visible()
    expect(page.get_by_text("Nothing waiting")).to_be_visible()
    browser.problems.assert_none()
