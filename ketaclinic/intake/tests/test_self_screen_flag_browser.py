"""In headless Chromium: a member of the public answers PHQ-9 item 9 above 0 on the self-screen
(first leaving item 8 out: the crisis notice comes first all the same) and sends an inquiry
with it; on the intake board that inquiry comes first in "New"; intake converts it, and the
new patient's record shows the open suicide-risk flag, attributed to the self-screen."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.intake.models import Inquiry
from ketaclinic.patients.models import Patient, SafetyFlag
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    PATIENT_WIDTHS,
    TIMEOUT_MS,
    Browser,
    screenshots,
    self_screen_answer,
    session_given,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

ANSWERS = ["More than half the days", "Several days", "Several days", "Several days"]
ANSWERS += ["Several days", "Not at all", "Nearly every day", "Several days", "Nearly every day"]


def test_item_9_self_screen_sorts_first_and_reaches_the_new_patients_record(
    live_clinic: Clinic, browser: Browser, live_server: object
) -> None:
    page = browser.page
    page.goto("/clinic/self-screen/")
    page.get_by_label("PHQ-9", exact=False).check()
    page.get_by_label("GAD-7", exact=False).uncheck()
    page.get_by_role("button", name="Start").click()
    phq9 = {str(n): answer for n, answer in enumerate(ANSWERS, start=1)}
    self_screen_answer(page, "phq9", {k: v for k, v in phq9.items() if k != "8"})
    page.get_by_role("button", name="See my results").click()

    # Incomplete (item 8 left out), item 9 "Nearly every day": the crisis notice comes first.
    expect(page.get_by_text("Some questions need an answer")).to_be_visible(timeout=TIMEOUT_MS)
    first = page.locator("main > *").first
    expect(first).to_have_class(re.compile(r"\bcrisis-urgent\b"))
    expect(first.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    screenshots(page, "self-screen-incomplete-item9", PATIENT_WIDTHS)

    self_screen_answer(page, "phq9", {"8": phq9["8"]})
    page.get_by_role("button", name="See my results").click()
    expect(page.get_by_role("heading", name="Your self-screen results")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    page.get_by_role("button", name="Send an inquiry with these results").click()
    page.get_by_label("Your name").fill("Una Urgent")
    page.get_by_label("E-mail address").fill("una@example.org")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send inquiry").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible(timeout=TIMEOUT_MS)

    # Newer inquiries without a self-screen: the board used to put them first.
    urgent = Inquiry.objects.get(name="Una Urgent")
    Inquiry.objects.filter(pk=urgent.pk).update(created_at=timezone.now() - timedelta(days=2))
    for name in ("Nia Newer", "Ola Newest"):
        Inquiry.objects.create(name=name, email="n@example.org", consent_to_contact=True)

    session_given(page, str(live_server), live_clinic.users["cleo"])
    page.goto("/intake/inquiries/")
    column = page.locator("section.board-column").filter(
        has=page.get_by_role("heading", name=re.compile(r"^New"))
    )
    cards = column.locator(".board-card")
    expect(cards).to_have_count(3)
    expect(cards.first).to_contain_text("Una Urgent")
    expect(cards.first).to_contain_text("PHQ-9 item 9 above 0: follow up urgently")
    expect(cards.nth(1)).to_contain_text("Ola Newest")
    screenshots(page, "intake-board-item9-first")

    cards.first.get_by_role("link").click()
    page.get_by_role("button", name="Convert into a patient record").or_(
        page.get_by_role("link", name="Convert into a patient record")
    ).click()
    page.get_by_label("Birth date").fill("1991-03-04")
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_role("button", name="Create the patient record").click()

    patient = Patient.objects.get(family_name="Urgent")
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"), timeout=TIMEOUT_MS)
    flag = SafetyFlag.objects.get(patient=patient)
    banner = page.locator(".patient-banner")
    expect(banner).not_to_contain_text("No open safety flags")
    expect(banner.locator(".flag")).to_have_text(flag.title)
    row = page.locator(".safety-flag")
    expect(row).to_contain_text("from the public self-screen sent with inquiry")
    expect(row).to_contain_text(f"answered {timezone.localtime(flag.opened_at):%Y-%m-%d}")
    screenshots(page, "patient-record-self-screen-flag")
    browser.problems.assert_none()
