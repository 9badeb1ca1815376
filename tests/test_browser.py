"""End to end in real headless Chromium: Dr Ada signs in with her password and TOTP code and
registers a new patient; a wrong password gets a clear message, not a server error.

The browser is Debian's chromium, driven by Playwright; Playwright never downloads one. Without
/usr/bin/chromium these tests skip, unless KETACLINIC_REQUIRE_BROWSER=1 (CI), where they fail.
The harness (fixtures, BrowserProblems) is shared in ketaclinic/testing/browser.py.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.testing import PASSWORD, Clinic, totp_now
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    SCREENSHOT_TIMEOUT_MS,
    TIMEOUT_MS,
    TOKEN_LABEL,
    Browser,
    sign_in_with_password,
)

# The shared harness's fixtures, found by name in this module (chromium_path is autouse).
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.browser


def test_clinician_signs_in_with_totp_and_registers_a_patient(
    live_clinic: Clinic, browser: Browser, tmp_path: Path
) -> None:
    page = browser.page
    ada = live_clinic.users["ada"]

    sign_in_with_password(page, "ada", PASSWORD)
    token = page.get_by_label(TOKEN_LABEL)
    expect(token).to_be_visible(timeout=TIMEOUT_MS)
    token.fill(totp_now(live_clinic.totp["ada"]))
    page.get_by_role("button", name="Verify").click()

    # Signed in, the clinician lands on their Today page; the patients are one click away.
    expect(page).to_have_url(re.compile(r"/today/$"), timeout=TIMEOUT_MS)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    page.get_by_role("button", name="New patient").click()

    expect(page.get_by_role("heading", name="New patient")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_label("Given name").fill("Morgan")
    page.get_by_label("Family name").fill("Testwood")
    page.get_by_label("Birth date").fill("1990-05-17")
    page.get_by_label("Sex at birth").select_option("intersex")
    page.get_by_label("Pronouns").fill("they/them")
    page.get_by_label("Email").fill("morgan.testwood@example.org")
    page.get_by_label("Phone").fill("555-0142")
    page.get_by_label("Address").fill("3 Synthetic Lane, Testville")
    page.get_by_label("Emergency contact").fill("Alex Testwood, sibling, 555-0143")
    page.get_by_role("button", name="Create patient").click()

    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text("Testwood, Morgan", timeout=TIMEOUT_MS)
    expect(banner).to_contain_text(re.compile(r"MRN\s*KC\d{7}"))
    expect(page.get_by_role("status")).to_have_text("Patient record created.")
    mrn_match = re.search(r"KC\d{7}", banner.inner_text())
    assert mrn_match is not None

    patient = Patient.objects.get(mrn=mrn_match.group())
    assert page.url.endswith(f"/patients/{patient.pk}/")
    assert (patient.given_name, patient.family_name) == ("Morgan", "Testwood")
    assert patient.birth_date == date(1990, 5, 17)
    assert patient.sex_at_birth == "intersex"
    assert patient.pronouns == "they/them"
    assert patient.email == "morgan.testwood@example.org"
    assert patient.phone == "555-0142"
    assert patient.address == "3 Synthetic Lane, Testville"
    assert patient.emergency_contact == "Alex Testwood, sibling, 555-0143"
    assert AuditEvent.objects.filter(
        action=Action.CREATE,
        object_type="Patient",
        object_id=str(patient.pk),
        patient_id=patient.pk,
        actor=ada,
    ).exists()

    screenshot = tmp_path / "patient-created.png"
    page.screenshot(path=screenshot, full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
    assert screenshot.stat().st_size > len(PNG_SIGNATURE)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    browser.problems.assert_none()


def test_wrong_password_shows_a_clear_error(live_clinic: Clinic, browser: Browser) -> None:
    page = browser.page

    sign_in_with_password(page, "ada", "not-the-right-password")

    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_label(TOKEN_LABEL)).to_have_count(0)
    assert re.search(r"/account/login/$", page.url)
    browser.problems.assert_none()
