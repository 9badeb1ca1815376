"""The chair board in real headless Chromium: a new alert shows within 10 seconds of the vitals
post, without a reload, and what the nurse was typing stays.

The harness (Chromium, live server, problem collection) is ``ketaclinic/testing/browser.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import browser as harness
from ketaclinic.testing import make_clinic
from ketaclinic.testing.browser import Browser, session_given

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
browser = harness.browser

ALERT_WITHIN_MS = 10_000

pytestmark = pytest.mark.browser


@pytest.fixture
def infusing(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> Chart:
    """Pat infusing in a chair, committed so that the live server's thread sees it."""
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(make_clinic(), chair="Chair 3")
    chart.infusing()
    return chart


def test_the_chair_board_shows_a_new_alert_without_a_reload(
    infusing: Chart, browser: Browser, live_server: LiveServer
) -> None:
    page = browser.page
    session_given(page, live_server.url, infusing.clinic.users["ben"])  # Nurse Ben
    page.goto("/infusions/board/")
    row = page.locator(f'article[data-session="{infusing.session.pk}"]')  # the chair's tile
    expect(row).to_contain_text("Chair 3")
    expect(row).to_contain_text("Example, Pat")
    expect(row).to_contain_text("Infusing")
    expect(row.locator(".tile-alert")).to_have_count(0)
    note = page.get_by_label("Station note (not saved; kept across refreshes)")
    note.fill("Chair 3 asked for a blanket")
    page.evaluate("window.__notReloaded = true")

    response = infusing.vitals(heart_rate=124)
    assert response.status_code == 201
    assert [a["code"] for a in response.json()["alerts"]] == ["hr_high"]

    alert = row.locator(".tile-alert")
    expect(alert).to_contain_text("1 open alert.", timeout=ALERT_WITHIN_MS)
    expect(alert).to_contain_text("Heart rate at or above 110/min")
    expect(alert).not_to_contain_text("hr_high")  # the clinic's words, not the code
    expect(row).to_have_class(re.compile(r"\bhas-alert\b"))
    expect(row).to_contain_text("HR 124")
    assert page.evaluate("window.__notReloaded") is True
    expect(note).to_have_value("Chair 3 asked for a blanket")
    browser.problems.assert_none()
