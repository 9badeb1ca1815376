"""The chart's dose step in headless Chromium: 1.5 kg on the SC protocol at 100 mg/mL is
refused beside the concentration (the volume to draw rounds to 0.00 mL), nothing stored.
Screenshots at 1366 and 820 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.models import DoseCheck
from ketaclinic.infusions.protocols import SC_RACEMIC_GLUE
from ketaclinic.infusions.tests.chart_driver import chart_for
from ketaclinic.testing import browser as harness
from ketaclinic.testing import make_clinic
from ketaclinic.testing.browser import Browser, screenshots

chromium_path = harness.chromium_path
browser = harness.browser

pytestmark = pytest.mark.browser


def test_a_dose_whose_volume_rounds_to_zero_is_refused_on_the_chart(
    transactional_db: Any, browser: Browser, live_server: LiveServer
) -> None:
    chart = chart_for(make_clinic(), code=SC_RACEMIC_GLUE, chair="Chair 5")
    assert chart.check_in().status_code in (200, 201)
    page = browser.page
    page.set_default_timeout(60_000)
    harness.session_given(page, live_server.url, chart.clinic.users["ben"])
    page.goto(f"/infusions/sessions/{chart.session.pk}/")
    page.locator("#step-dose summary").click()  # not the next step: one click away
    form = page.locator("form", has=page.get_by_role("button", name="Calculate the dose"))
    form.get_by_label("Weight (kg)").fill("1.5")
    form.get_by_label("Concentration (mg/mL)").fill("100")
    form.get_by_role("button", name="Calculate the dose").click()
    error = page.locator("#id_dose_concentration_mg_per_ml_errors")
    expect(error).to_contain_text(
        "the volume to draw rounds to 0.00 mL at 100 mg/mL; use a lower concentration"
    )
    error.scroll_into_view_if_needed()
    screenshots(page, "chart-dose-volume-rounds-to-zero")
    assert not DoseCheck.objects.exists()
    # The refused step is a 422 page by design: Chromium logs that status, nothing else.
    problems = browser.problems
    assert all("status of 422" in e for e in problems.console_errors), problems
    problems.console_errors.clear()
    problems.assert_none()
