"""In headless Chromium, as the patient: after their PHQ-9 item 9 answer opened a flag, their own
page shows the crisis block first (supportive text, crisis numbers) and no staff flag label;
the clinician's page still shows the flag."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.patients.models import SafetyFlag
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    PATIENT_WIDTHS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
    session_given,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 2}


def test_patient_sees_support_not_the_staff_flag_label(
    live_clinic: Clinic, browser: Browser, live_server: object
) -> None:
    administration_record(
        acting_user=live_clinic.users["ben"],
        patient=live_clinic.pat,
        instrument_code="phq9",
        answers=PHQ9_ITEM9,
        administered_at=timezone.now() - timedelta(hours=1),
    )
    flag = SafetyFlag.objects.get(patient=live_clinic.pat)
    page = browser.page
    session_given(page, str(live_server), live_clinic.users["pat"])
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/me/")  # the old address of the patient's record: the portal now
    expect(page).to_have_url(f"{live_server}/portal/")
    main = page.locator("main")
    support = main.locator(".crisis-urgent")
    expect(support).to_be_visible()
    expect(support.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(main).to_contain_text("Your care team has been told about your answer")
    expect(page.locator("body")).not_to_contain_text(flag.title)
    expect(page.locator("body")).not_to_contain_text("Suicide risk")
    expect(page.locator(".flag")).to_have_count(0)
    violations = axe_violations(page)
    assert violations == [], axe_report("the patient's own page", violations)
    screenshots(page, "patient-own-page-item9-support", PATIENT_WIDTHS)

    page.context.clear_cookies()
    session_given(page, str(live_server), live_clinic.users["ben"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/patients/{live_clinic.pat.pk}/")
    expect(page.locator(".patient-banner .flag")).to_have_text(flag.title)
    expect(page.locator("main .crisis-urgent")).to_have_count(0)
    browser.problems.assert_none()
