"""The patient list in headless Chromium: a patient with an urgent suicide-risk flag stands out
(the row marked, the flag named as urgent), the others show their status and next session.
Screenshots at 1366 and 820 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.patients.models import SafetyFlag
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def test_the_urgent_suicide_risk_flag_stands_out_in_the_list(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    SafetyFlag.objects.create(
        patient=live_clinic.quinn,
        code="suicide_risk",
        title="Suicide risk (PHQ-9 item 9)",
        severity="urgent",
    )
    page = browser.page
    harness.session_given(page, live_server.url, live_clinic.users["cleo"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/patients/")
    quinn = page.locator("tr", has_text="Sample, Quinn")
    expect(quinn).to_have_class("row-urgent")
    expect(quinn).to_contain_text("Urgent: Suicide risk (PHQ-9 item 9)")
    expect(quinn).to_contain_text("Inquiry")
    pat = page.locator("tr", has_text="Example, Pat")
    expect(pat).not_to_have_class("row-urgent")
    expect(page.get_by_role("columnheader", name="Next session")).to_be_visible()
    screenshots(page, "patients-list")
    violations = axe_violations(page)
    assert violations == [], axe_report("the patient list", violations)

    # Quinn's record leads with the summary and the open flag; demographics come after.
    page.get_by_role("link", name="Sample, Quinn").click()
    expect(page.get_by_role("navigation", name="Everything about this patient")).to_be_visible()
    expect(page.get_by_text("Allergies")).to_be_visible()
    screenshots(page, "patient-record")
    violations = axe_violations(page)
    assert violations == [], axe_report("the patient record", violations)
    browser.problems.assert_none()
