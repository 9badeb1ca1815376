"""The courses pages in real headless Chromium: Dr Ada starts a course for a patient whom intake
has cleared (an eligible decision and a signed consent), books a session in a chair, sees it
listed on the patient's courses page, and follows its link to the session chart.

The harness (Chromium, live server, personas, sign-in) is ``ketaclinic/testing/browser.py``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ketaclinic.courses import services
from ketaclinic.courses.models import Course
from ketaclinic.courses.tests.conftest import local_at, monday_ahead, presence_mark
from ketaclinic.courses.tests.conftest import shipped_rows_ensure as protocols_ensure
from ketaclinic.eligibility.clearance import treatment_clearance
from ketaclinic.eligibility.tests.eligibility_helpers import consent_all, decision_make
from ketaclinic.eligibility.tests.eligibility_helpers import shipped_rows_ensure as rules_ensure
from ketaclinic.infusions.models import Session
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import TIMEOUT_MS, Browser, axe_report, axe_violations, sign_in

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

PROTOCOL = "IV racemic ketamine 0.5 mg/kg over 40 minutes"


def test_a_clinician_starts_a_course_and_books_a_session_through_the_pages(
    live_clinic: Clinic, browser: Browser
) -> None:
    # An earlier transactional test's flush removes the shipped rows; put them back.
    rules_ensure()
    protocols_ensure()
    clinic, pat = live_clinic, live_clinic.pat
    decision_make(clinic)
    consent_all(clinic)
    assert treatment_clearance(pat).cleared
    services.chair_create(acting_user=clinic.users["dana"], name="Chair 2", room="Room B")
    start = local_at(monday_ahead(), 9)
    # A booking is refused on a day with no prescriber marked on site.
    presence_mark(clinic, start.date(), 1)

    page = browser.page
    sign_in(page, "ada", PASSWORD, clinic.totp["ada"])
    page.goto(f"/patients/{pat.pk}/")
    page.get_by_role("link", name="Courses of treatment").click()
    expect(page.get_by_role("heading", name="Courses of treatment")).to_be_visible()
    expect(page.get_by_text("No course of treatment yet.")).to_be_visible()

    starting = page.get_by_role("region", name="Start a course")
    starting.get_by_label("Protocol").select_option(label=f"{PROTOCOL} (v1)")
    starting.get_by_role("button", name="Start the course").click()
    expect(page.get_by_role("status")).to_have_text(f"Course started on {PROTOCOL} (v1).")
    course = Course.objects.get(patient=pat)
    expect(page.get_by_role("heading", name=f"{PROTOCOL} (version 1)")).to_be_visible()
    expect(page.get_by_role("region", name="Start a course")).to_have_count(0)

    booking = page.get_by_role("region", name="Book a session")
    booking.get_by_label("Start").fill(f"{start:%Y-%m-%dT%H:%M}")
    booking.get_by_label("Chair").select_option(label="Chair 2 (Room B)")
    booking.get_by_role("button", name="Book the session").click()
    when = f"{start:%a %Y-%m-%d} 09:00"
    expect(page.get_by_role("status")).to_have_text(f"Session booked: {when} in Chair 2.")

    session = Session.objects.get(course=course)
    assert session.start == start and session.chair.name == "Chair 2"
    row = page.locator(f'tr[data-session="{session.pk}"]')
    expect(row).to_contain_text("Chair 2")
    expect(row).to_contain_text("Scheduled")
    chart_link = row.get_by_role("link", name=f"{when} (session chart)")
    expect(chart_link).to_have_attribute("href", f"/infusions/sessions/{session.pk}/")

    violations = axe_violations(page)
    assert violations == [], axe_report("the patient's courses page", violations)

    chart_link.click()
    expect(page).to_have_url(re.compile(rf"/infusions/sessions/{session.pk}/$"), timeout=TIMEOUT_MS)
    browser.problems.assert_none()
