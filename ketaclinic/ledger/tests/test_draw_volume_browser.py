"""The draw page in headless Chromium with 0.004 mL: refused beside the volume, nothing
recorded. Screenshots at 1366 and 820 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.ledger.models import EntryKind, LedgerEntry
from ketaclinic.ledger.tests.conftest import location_make, receive, session_make
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def test_a_draw_that_rounds_to_zero_is_refused_beside_the_volume(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    vial = receive(live_clinic, location_make(live_clinic))[0]
    session = session_make(live_clinic)
    page = browser.page
    page.set_default_timeout(60_000)
    harness.session_given(page, live_server.url, live_clinic.users["ben"])
    page.goto(f"/ledger/containers/{vial.pk}/draw/?session={session.pk}")
    page.get_by_label("Volume drawn (mL)").fill("0.004")
    page.get_by_role("button", name="Record the draw").click()
    expect(page.locator("#id_volume_ml_errors")).to_contain_text("rounds to 0.00 mL")
    screenshots(page, "ledger-draw-rounds-to-zero")
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()
    # The refused form is a 422 page by design: Chromium logs that status, nothing else.
    problems = browser.problems
    assert all("status of 422" in error for error in problems.console_errors), problems
    problems.console_errors.clear()
    problems.assert_none()
