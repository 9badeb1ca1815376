"""The paginated patient list in headless Chromium (issue 12, item 12): next and previous swap
the results in place, the live search narrows and pages, and no request URL carries the name
searched for. Screenshots at 1366 and 820 px: page 1, page 2 and a search's page 2."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Request, expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.patients.tests.test_patient_list_paging import _many
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def test_the_list_pages_and_searches_in_place_with_no_name_in_a_url(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    _many()
    page = browser.page
    page.set_default_timeout(60_000)  # a shared, busy machine: 50 audited rows a page
    urls: list[str] = []

    def seen(request: Request) -> None:
        urls.append(request.url)

    page.on("request", seen)
    harness.session_given(page, live_server.url, live_clinic.users["ben"])
    page.goto("/patients/")
    count = page.locator(".list-count")
    expect(count).to_have_text("Showing 1-50 of 63.")
    assert page.locator("#patient-rows tr").count() == 50
    assert not axe_violations(page), axe_report("the patient list", axe_violations(page))
    screenshots(page, "patients-list-page1")

    page.get_by_role("button", name="Next →").click()
    expect(count).to_have_text("Showing 51-63 of 63.")
    expect(page.locator("#patient-rows tr").last).to_contain_text("Zed, Test61")
    screenshots(page, "patients-list-page2")
    page.get_by_role("button", name="← Previous").click()
    expect(count).to_have_text("Showing 1-50 of 63.")

    page.get_by_label("Search patients").fill("test")
    expect(count).to_have_text("Showing 1-50 of 61 matching your search.")
    page.get_by_role("button", name="Next →").click()
    expect(count).to_have_text("Showing 51-61 of 61 matching your search.")
    expect(page.get_by_label("Search patients")).to_have_value("test")
    screenshots(page, "patients-list-search-page2")
    page.get_by_label("Search patients").fill("Test61")
    expect(count).to_have_text("Showing 1-1 of 1 matching your search.")
    expect(page.get_by_role("button", name="Next →")).to_have_count(0)

    assert not [url for url in urls if re.search(r"test", url, re.I)], urls
    assert page.url.endswith("/patients/")
    browser.problems.assert_none()
