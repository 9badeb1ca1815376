"""In headless Chromium, a nurse keys in a paper PHQ-9 with item 8 left blank and item 9 "Nearly
every day": the form is refused with item 8 marked (no total), and the page says that the
suicide-risk flag was opened all the same; the banner shows it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ketaclinic.patients.models import SafetyFlag
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, screenshots, session_given

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

# 2,1,1,1,1,0,3,—,3: the example.
ANSWERS = {
    "1": "More than half the days",
    "2": "Several days",
    "3": "Several days",
    "4": "Several days",
    "5": "Several days",
    "6": "Not at all",
    "7": "Nearly every day",
    "9": "Nearly every day",
}


def test_staff_form_refuses_the_incomplete_phq9_and_says_the_flag_is_open(
    live_clinic: Clinic, browser: Browser, live_server: object
) -> None:
    page = browser.page
    session_given(page, str(live_server), live_clinic.users["ben"])
    page.goto(f"/scales/patients/{live_clinic.pat.pk}/enter/phq9/")
    for link_id, anchor in ANSWERS.items():
        item = page.locator("fieldset.item").nth(int(link_id) - 1)
        item.get_by_label(anchor, exact=True).check()
    page.get_by_role("button", name="Save answers").click()

    notice = page.locator(".flag-raised")
    expect(notice).to_contain_text("raised an urgent safety flag (Suicide risk)")
    expect(notice).to_contain_text("the total is missing until item 8 is answered")
    expect(page.locator("fieldset.item-invalid")).to_have_count(1)
    expect(page.locator("fieldset.item-invalid legend")).to_contain_text(re.compile(r"^8\."))
    flag = SafetyFlag.objects.get(patient=live_clinic.pat)
    expect(page.locator(".patient-banner .flag")).to_have_text(flag.title)
    screenshots(page, "scales-enter-incomplete-item9")
    problems = browser.problems
    assert [e for e in problems.console_errors if "status of 422" not in e] == []  # the refusal
    assert (problems.page_errors, problems.csp_violations, problems.server_errors) == ([], [], [])
