"""In headless Chromium: Dr Ada writes Pat's care plan in the editor and signs it (1366 and
820 px, no horizontal scroll at 820), the therapist's landing page and note form, and Pat
reads the signed plan in the portal at a phone's width (390 px). axe finds nothing serious;
screenshots for a person to open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.careplan.models import CarePlanVersion, VersionStatus
from ketaclinic.careplan.samples import plan_signed, therapist_get_or_create
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    PATIENT_WIDTHS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
    session_given,
    sign_in,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _look(browser: Browser, name: str, widths: tuple[int, ...] = (1366, 820)) -> None:
    violations = axe_violations(browser.page)
    assert violations == [], axe_report(name, violations)
    screenshots(browser.page, name, widths)
    browser.page.set_viewport_size({"width": 820, "height": 900})
    assert browser.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{name}: horizontal scroll at 820 px"
    )
    browser.page.set_viewport_size({"width": 1366, "height": 900})


def test_clinician_writes_and_signs_a_care_plan(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    c = live_clinic
    therapist_get_or_create()
    page = browser.page
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "ada", PASSWORD, c.totp["ada"])
    page.goto(f"/patients/{c.pat.pk}/")
    page.get_by_role("link", name="Open the care plan").click()
    page.get_by_role("button", name="Write the care plan").click()
    expect(page.get_by_role("heading", name="Care plan: draft version 1")).to_be_visible()
    page.locator('[name="problems-0-text"]').fill("I panic on the bus and stopped going out")
    page.locator('[name="goals-0-text"]').fill("Feel less anxious day to day")
    page.locator('[name="goals-0-instrument"]').select_option("gad7")
    page.locator('[name="goals-0-threshold"]').fill("10")
    page.get_by_label("With our integration therapist").check()
    page.locator('[name="therapy_therapist"]').select_option(label="theo")
    page.locator('[name="modality"]').select_option("erp")
    page.locator('[name="frequency"]').fill("weekly")
    page.locator('[name="integration_planned"]').check()
    page.locator('[name="integration_therapist"]').select_option(label="theo")
    page.locator('[name="lifestyle_sleep"]').fill("Lights out by 23:00")
    for key, text in (
        ("warning_signs", "Racing heart at night"),
        ("coping", "Box breathing"),
        ("distraction", "Walk in the park"),
        ("help_people", "Sam, 555-0111"),
        ("professionals", "The clinic, 555-0123"),
        ("environment", "Medicines locked away"),
    ):
        page.locator(f'[name="safety_{key}"]').fill(text)
    review = (timezone.localdate() + timedelta(days=60)).isoformat()
    page.locator('[name="review_on"]').fill(review)
    _look(browser, "careplan-editor")
    page.get_by_role("button", name="Save and sign version 1").click()
    expect(page.get_by_text("Version 1 signed.")).to_be_visible()
    version = CarePlanVersion.objects.get(plan__patient=c.pat)
    assert version.status == VersionStatus.SIGNED
    expect(page.locator("#crisis-heading")).to_have_text("Crisis plan")
    _look(browser, "careplan-plan")


def test_therapist_pages_and_portal_care_plan(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    c = live_clinic
    theo = therapist_get_or_create()
    plan_signed(clinician=c.users["ada"], patient=c.pat, therapist=theo)
    page = browser.page
    page.set_viewport_size({"width": 1366, "height": 900})
    session_given(page, live_server.url, theo)
    page.goto("/care-plans/therapist/")
    expect(page.get_by_role("heading", name="My patients")).to_be_visible()
    _look(browser, "careplan-therapist-home")
    page.goto(f"/care-plans/patients/{c.pat.pk}/notes/new/")
    page.locator('[name="themes"]').fill("Felt distant from the worry")
    _look(browser, "careplan-note-form")
    page.context.clear_cookies()

    session_given(page, live_server.url, c.users["pat"])
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/portal/")
    page.get_by_role("button", name="Read my care plan").click()
    expect(page.get_by_role("heading", name="My care plan", level=1)).to_be_visible()
    expect(page.get_by_text("Feel calm enough to sleep")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], axe_report("portal care plan", violations)
    screenshots(page, "careplan-portal", PATIENT_WIDTHS)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    text = page.content()
    assert c.pat.mrn not in text
