"""In real headless Chromium: Nurse Ben tries to sign a session whose SpO2 stop alert is still
open and is refused with the alert named; he acknowledges it, first without a note (refused
beside the field), then with what was done; then he signs (issue 12, item 5). Screenshots at
1366 and 820 px go to var/screenshots/ (alert-sign-*)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, SessionAlert
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import browser as harness
from ketaclinic.testing import make_clinic
from ketaclinic.testing.browser import Browser, screenshots, session_given

chromium_path = harness.chromium_path
browser = harness.browser

pytestmark = pytest.mark.browser

NOTE = "Infusion stopped at 14:10; chin lift, SpO2 back to 97% in 2 min; Dr Ada informed."


@pytest.fixture
def discharged_with_alert(transactional_db: Any) -> Chart:
    """Pat's session, discharged, with an SpO2 stop alert nobody has acknowledged (the dose
    drawn from the ledger and given in full, so the ledger check passes)."""
    chart = chart_for(make_clinic(), chair="Chair 2")
    chart.infusing()
    assert chart.vitals(spo2=90).status_code == 201
    assert chart.stop().status_code == 200
    ChartEntry.objects.filter(session=chart.session, kind=ChartEntryKind.INFUSION_STOP).update(
        at=timezone.now() - timedelta(minutes=61)
    )
    assert chart.discharge().status_code == 200
    return chart


def test_a_nurse_acknowledges_a_stop_alert_with_a_note_before_signing(
    discharged_with_alert: Chart, browser: Browser, live_server: LiveServer
) -> None:
    chart = discharged_with_alert
    alert = SessionAlert.objects.get(session=chart.session)
    page = browser.page
    session_given(page, live_server.url, chart.clinic.users["ben"])
    page.goto(f"/infusions/sessions/{chart.session.pk}/")

    expect(page.locator("#sign-not-yet")).to_be_visible()
    page.get_by_role("button", name="Sign the session record").click()
    refusal = page.locator("#sign-refusal")
    expect(refusal).to_contain_text("Alert not acknowledged")
    expect(refusal).to_contain_text("SpO2 below 92%")
    screenshots(page, "alert-sign-refused")

    item = page.locator(f"#alert-{alert.pk}")
    item.get_by_role("button", name="Acknowledge").click()
    item = page.locator(f"#alert-{alert.pk}")
    expect(item.locator(f"#id_alert_{alert.pk}_note_errors")).to_contain_text("Note what was done")
    screenshots(page, "alert-sign-note-missing")
    violations = harness.axe_violations(page)
    assert violations == [], harness.axe_report("the chart with a note missing", violations)

    item.get_by_label("What was done").fill(NOTE)
    item.get_by_role("button", name="Acknowledge").click()
    # Acknowledged, the alert leaves the open alerts and stands in the history, with the note.
    expect(page.locator(f"#alert-{alert.pk}")).to_have_count(0)
    history = page.locator("ol.timeline")
    expect(history).to_contain_text("SpO2 below 92%: stop the infusion")
    expect(history).to_contain_text("Acknowledged by ben")
    expect(history).to_contain_text("Dr Ada informed")
    page.get_by_role("button", name="Sign the session record").click()
    expect(page.get_by_text("Signature recorded.")).to_be_visible()
    screenshots(page, "alert-sign-signed")
    alert.refresh_from_db()
    assert alert.acknowledgement_note == NOTE
    assert chart.session.signatures.count() == 1
    # The refused signature (409) and the missing note (422) are the browser's only errors.
    refusals = browser.problems.console_errors
    assert len(refusals) == 2
    assert all("409" in m or "422" in m for m in refusals), refusals
    refusals.clear()
    browser.problems.assert_none()
