"""End to end in real headless Chromium: Dr Ada signs in with her password and TOTP code and
registers a new patient; a wrong password gets a clear message, not a server error.

The browser is Debian's chromium, driven by Playwright; Playwright never downloads one. Without
/usr/bin/chromium these tests skip, unless KETACLINIC_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.testing import PASSWORD, Clinic, make_clinic, totp_now

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Runs in every page before its own scripts; the init script is injected by the browser, so the
# page's CSP does not apply to it. It reports each CSP violation to the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = event.sourceFile || document.location.href;
  window.__ketaclinicCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${where}`
  );
});
"""

pytestmark = pytest.mark.browser


@dataclass
class BrowserProblems:
    """What went wrong in the browser during a test: all lists must stay empty."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location}")

    def on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))

    def on_response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def on_csp_violation(self, description: str) -> None:
        self.csp_violations.append(description)

    def assert_none(self) -> None:
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.csp_violations == []
        assert self.server_errors == []


@dataclass
class Browser:
    page: Page
    problems: BrowserProblems


@pytest.fixture(autouse=True)
def chromium_path() -> Path:
    """Autouse, so that a missing browser skips before the database is set up."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)"
        if os.environ.get("KETACLINIC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"KETACLINIC_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def live_clinic(transactional_db: Any) -> Clinic:
    """The personas, committed, so that the live server's thread sees them."""
    return make_clinic()


@pytest.fixture
def browser(
    chromium_path: Path, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Browser]:
    # Playwright's sync API keeps an asyncio loop running in this thread, which trips Django's
    # async-unsafe guard on every ORM call the test makes; there is no real concurrency here.
    # Teardown order matters: the browser stops before the variable is removed and the
    # database is flushed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = chromium.new_context(base_url=live_server.url)
            context.set_default_timeout(TIMEOUT_MS)
            problems = BrowserProblems()
            context.expose_function("__ketaclinicCspViolation", problems.on_csp_violation)
            context.add_init_script(CSP_LISTENER)
            page = context.new_page()
            page.on("console", problems.on_console)
            page.on("pageerror", problems.on_page_error)
            page.on("response", problems.on_response)
            yield Browser(page=page, problems=problems)
            context.close()
        finally:
            chromium.close()


def _sign_in_with_password(page: Page, username: str, password: str) -> None:
    page.goto("/account/login/")
    expect(page.get_by_role("heading", name="Login")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Next").click()


def test_clinician_signs_in_with_totp_and_registers_a_patient(
    live_clinic: Clinic, browser: Browser, tmp_path: Path
) -> None:
    page = browser.page
    ada = live_clinic.users["ada"]

    _sign_in_with_password(page, "ada", PASSWORD)
    token = page.get_by_label("Token")
    expect(token).to_be_visible(timeout=TIMEOUT_MS)
    token.fill(totp_now(live_clinic.totp["ada"]))
    page.get_by_role("button", name="Next").click()

    expect(page).to_have_url(re.compile(r"/patients/$"), timeout=TIMEOUT_MS)
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
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > len(PNG_SIGNATURE)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    browser.problems.assert_none()


def test_wrong_password_shows_a_clear_error(live_clinic: Clinic, browser: Browser) -> None:
    page = browser.page

    _sign_in_with_password(page, "ada", "not-the-right-password")

    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_label("Token")).to_have_count(0)
    assert re.search(r"/account/login/$", page.url)
    browser.problems.assert_none()
