"""The administrator's audit trail shows a page of reads (a FHIR search page, issue 16) as one
row: the kind with how many records, and every id under Details. Screenshots at 1366 and
820 px, the details open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.audit.services import audit_record_many, page_target
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots, sign_in

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def test_a_page_of_reads_is_one_row_with_its_ids(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    ids = [f"vitals-{100 + n}-{m}" for n in range(5) for m in ("bp", "hr", "spo2", "rr")]
    audit_record_many(
        actor=live_clinic.users["ben"],
        action="R",
        targets=[page_target("Observation", ids, live_clinic.pat.pk)],
    )
    page = browser.page
    page.goto(f"{live_server.url}/")
    sign_in(page, "dana", PASSWORD, live_clinic.totp["dana"])
    page.goto(f"{live_server.url}/audit/?patient={live_clinic.pat.pk}")
    row = page.locator("table.audit-table tr", has_text="Observation (20 records)")
    expect(row).to_be_visible()
    row.locator("summary").click()
    expect(row).to_contain_text(", ".join(ids))
    assert not axe_violations(page), axe_report("the audit trail", axe_violations(page))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshots(page, "audit-page-of-reads")
    page.set_viewport_size({"width": 820, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    browser.problems.assert_none()
