"""In headless Chromium: the page people see while the database cannot be reached (503)."""

from __future__ import annotations

from django.test import RequestFactory
from playwright.sync_api import expect

from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    PATIENT_WIDTHS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
)
from ketaclinic.web.unavailable import unavailable_response

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser


def test_the_unavailable_page_says_what_to_do(
    live_clinic: object, browser: Browser, live_server: object
) -> None:
    response = unavailable_response(RequestFactory().get("/patients/"))
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    page = browser.page
    page.goto("/healthz")  # the live server's origin, so that the page's stylesheet loads
    page.set_content(response.content.decode())
    expect(
        page.get_by_role("heading", name="KetaClinic is not available right now")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("check whether it was saved")
    violations = axe_violations(page)
    assert violations == [], axe_report("the 503 page", violations)
    screenshots(page, "database-unavailable")
    screenshots(page, "database-unavailable-patient", PATIENT_WIDTHS)
