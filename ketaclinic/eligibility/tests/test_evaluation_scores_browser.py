"""The evaluation page in headless Chromium with a GAD-7 above its range: refused, the error
beside the field, nothing stored. Screenshots at 1366 and 820 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.eligibility.models import Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import shipped_rows_ensure
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def test_a_score_above_the_range_is_shown_beside_the_field(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    shipped_rows_ensure()
    page = browser.page
    page.set_default_timeout(60_000)
    harness.sign_in(page, "ada", PASSWORD, live_clinic.totp["ada"])
    page.goto(f"/intake/patients/{live_clinic.pat.pk}/evaluations/new/")
    page.get_by_label("GAD-7").fill("99")
    page.get_by_label("PHQ-9").fill("12.5")
    page.get_by_role("button", name="Record the evaluation").click()
    expect(page.locator("#id_gad7_errors")).to_contain_text("from 0 to 21")
    expect(page.locator("#id_phq9_errors")).to_contain_text("from 0 to 27")
    page.locator("#id_gad7").scroll_into_view_if_needed()
    screenshots(page, "evaluation-baseline-score-refused")
    assert not Evaluation.objects.exists()
    # The refused form is a 422 page by design: Chromium logs that status, nothing else.
    problems = browser.problems
    assert all("status of 422" in error for error in problems.console_errors), problems
    problems.console_errors.clear()
    problems.assert_none()
