"""In headless Chromium: Dr Ada opens the patient's referrals and letters from the record,
drafts the induction letter (prefilled with the scores), edits it, signs it and records it as
printed (1366 and 820 px, no horizontal scroll, axe clean); Pat then finds her copy, her
consent and her discharge instructions on the portal's documents page (390 px)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.tests.chart_driver import consent_signed
from ketaclinic.intake.models import Inquiry
from ketaclinic.letters.models import Letter, LetterStatus
from ketaclinic.letters.services.referrals import referral_record
from ketaclinic.letters.tests.records import course_make, decision_make, gp_make
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    PATIENT_WIDTHS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
    session_given,
    sign_out,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _check(page: Page, name: str, widths: tuple[int, ...] = (1366, 820)) -> None:
    violations = axe_violations(page)
    assert violations == [], axe_report(name, violations)
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow} px of horizontal scroll at {width} px"
    screenshots(page, name, widths)


def test_a_clinician_drafts_signs_and_prints_a_letter_and_the_patient_finds_her_copy(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    pat = live_clinic.pat
    course_make(live_clinic)
    decision_make(live_clinic)
    gp_make(live_clinic)
    consent_signed(live_clinic)
    inquiry = Inquiry.objects.create(
        name=pat.display_name, email="pat@example.org", consent_to_contact=True, patient=pat
    )
    referral_record(
        acting_user=live_clinic.users["cleo"],
        inquiry=inquiry,
        referrer_name="Dr Gail Greene",
        referrer_role="gp",
        referrer_organisation="Demo Street Practice",
        reason="Generalized anxiety not helped by sertraline and CBT.",
        received_on=date(2026, 11, 20),
        letter=b"%PDF-1.4\n%%EOF\n",
        letter_name="referral.pdf",
    )
    page = browser.page
    page.set_default_timeout(60_000)
    harness.sign_in(page, "ada", PASSWORD, live_clinic.totp["ada"])
    page.goto(f"/patients/{pat.pk}/")
    card = page.locator("article", has=page.locator("#letters-card-heading"))
    expect(card).to_contain_text("Referred by Dr Gail Greene")
    card.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name="Referrals and letters")).to_be_visible()
    page.locator("#id_draft-kind").select_option("induction")
    page.locator("#id_draft-recipient").select_option(label="Dr Hal Moss (GP, Riverside Surgery)")
    _check(page, "letters-patient")
    page.get_by_role("button", name="Draft the letter").click()
    expect(page.get_by_role("heading", name="Letter: after the induction series")).to_be_visible()
    body = page.get_by_label("Text of the letter")
    expect(body).to_contain_text("GAD-7 16 to 3 (remission)")
    expect(page.locator(".letter-scores")).to_contain_text("Remission")
    _check(page, "letters-draft")
    body.fill(body.input_value() + "\n\nShe plans to continue weekly integration therapy.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    # Signing keeps what is typed, even without saving first.
    body = page.get_by_label("Text of the letter")
    body.fill(body.input_value() + "\nNo further sessions are booked.")
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_text("Letter signed.")).to_be_visible()
    letter = Letter.objects.get(patient=pat)
    assert letter.status == LetterStatus.SIGNED
    assert "weekly integration therapy" in letter.body
    assert letter.body.endswith("No further sessions are booked.")
    page.get_by_label("Printed (posted or handed over)").check()
    page.get_by_role("button", name="Send or record").click()
    expect(page.get_by_text("Printed (posted or handed over) to Dr Hal Moss")).to_be_visible()
    _check(page, "letters-signed")
    sign_out(page)

    session_given(page, live_server.url, live_clinic.users["pat"])
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/portal/")
    page.get_by_role("button", name="See my documents").click()
    expect(page.get_by_role("heading", name="My documents")).to_be_visible()
    expect(page.get_by_text("Sent to Dr Hal Moss")).to_be_visible()
    _check(page, "portal-documents", PATIENT_WIDTHS)
    response = page.request.get(f"/portal/documents/letters/{letter.pk}/")
    assert response.status == 200 and response.body() == bytes(letter.pdf or b"")
