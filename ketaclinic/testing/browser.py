"""The headless-Chromium harness that browser tests share (tests only; needs Playwright).

Debian's chromium at /usr/bin/chromium, driven by Playwright, which never downloads a browser.
Without it the tests skip, unless KETACLINIC_REQUIRE_BROWSER=1 (CI), where they fail.

Use the fixtures by binding them in a test module, where pytest finds them by name (bound by
assignment rather than imported by name, which ruff would report as redefined by the test
functions' parameters):

    from ketaclinic.testing import browser as harness

    chromium_path = harness.chromium_path
    live_clinic = harness.live_clinic
    browser = harness.browser

``chromium_path`` is autouse in every module that imports it, so that a missing browser skips
before the database is set up. ``browser`` fails nothing by itself: call
``browser.problems.assert_none()`` at the end of a test for console errors, page errors, CSP
violations and 5xx answers.
"""

from __future__ import annotations

import fcntl
import json
import os
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import ConsoleMessage, Page, Response, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from ketaclinic.testing import Clinic, make_clinic, totp_now
from ketaclinic.testing.shipped import shipped_data_ensure

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
# The live server's first request imports every view and the API's schemas and compiles the
# base template: seconds of CPU, more than TIMEOUT_MS on a busy machine when a browser test is
# the first test of a fresh pytest-xdist worker. It is made once, before Chromium's clock runs.
WARM_UP_PATH = "/account/login/"
WARM_UP_TIMEOUT_S = 120
# A screenshot is an artefact for a person to look at, not behaviour under test. Chromium
# renders a full page for it; on a loaded 2-core CI machine one took over TIMEOUT_MS (after
# "fonts loaded") on an ordinary 1366x982 page, failing a test whose steps had all passed.
SCREENSHOT_TIMEOUT_MS = 60_000

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

# The vendored axe-core (tests only, see static/vendor/VENDOR.md), loaded from the app's own
# static files: same origin, so the page's CSP (script-src 'self') allows it; no network.
AXE_URL = "/static/vendor/axe-core/axe.min.js"
AXE_BLOCKING_IMPACTS = ("serious", "critical")


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
    """The personas, committed, so that the live server's thread sees them, with the shipped
    protocols, rules, consent documents and site pages (an earlier test's flush removed them)."""
    shipped_data_ensure()
    return make_clinic()


@contextmanager
def one_chromium_at_a_time() -> Iterator[None]:
    """Hold an exclusive lock on var/browser.lock while Chromium runs. Each page load takes
    Chromium, the live server and the test's thread at once; two browser tests at the same
    time (two pytest-xdist workers) on a 2-core machine push each other past TIMEOUT_MS, so
    the second waits for the first. If a worker dies, the kernel drops its lock."""
    path = Path(settings.VAR_DIR) / "browser.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def live_server_warm_up(live_server: LiveServer) -> None:
    """One plain request to the live server, so that its first-request costs (imports, the
    template cache) fall outside the browser's timeouts."""
    url = live_server.url + WARM_UP_PATH
    with urllib.request.urlopen(url, timeout=WARM_UP_TIMEOUT_S) as response:  # noqa: S310  loopback
        assert response.status == 200, url


@pytest.fixture
def browser(
    chromium_path: Path, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Browser]:
    # Playwright's sync API keeps an asyncio loop running in this thread, which trips Django's
    # async-unsafe guard on every ORM call the test makes; there is no real concurrency here.
    # Teardown order matters: the browser stops before the variable is removed and the
    # database is flushed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    live_server_warm_up(live_server)
    with one_chromium_at_a_time(), sync_playwright() as playwright:
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


def axe_violations(
    page: Page, impacts: Sequence[str] = AXE_BLOCKING_IMPACTS
) -> list[dict[str, Any]]:
    """Run the vendored axe-core on the page as it is now; its violations of these impacts."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def axe_report(where: str, violations: Sequence[dict[str, Any]]) -> str:
    """The violations, readably: rule, impact, help, and the HTML of each offending node."""
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation.get("nodes", [])[:10]:
            target = json.dumps(node.get("target"))
            lines.append(f"    {target}: {node.get('html', '')[:200]}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + summary.replace("\n", "\n      "))
    return "\n".join(lines)


TOKEN_LABEL = "Code from your authenticator app"  # noqa: S105  a label, not a secret
"""The TOTP field's label on the sign-in page (templates/two_factor/_wizard_forms.html)."""
ACCOUNT_MENU = "details.kc-account"
"""The header's account menu: the signed-in person and role, security, log out."""


def sign_in_with_password(page: Page, username: str, password: str) -> None:
    page.goto("/account/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, username: str, password: str, device: TOTPDevice | None = None) -> None:
    """Sign in with the password, and the TOTP code of ``device`` for the roles that need one."""
    sign_in_with_password(page, username, password)
    if device is not None:
        token = page.get_by_label(TOKEN_LABEL)
        expect(token).to_be_visible(timeout=TIMEOUT_MS)
        token.fill(totp_now(device))
        page.get_by_role("button", name="Verify").click()
    expect(page.locator(ACCOUNT_MENU)).to_be_visible(timeout=TIMEOUT_MS)


def sign_out(page: Page) -> None:
    """Log out from the account menu (the signed-in person and role, top right)."""
    page.locator(f"{ACCOUNT_MENU} > summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=TIMEOUT_MS)


def session_given(page: Page, base_url: str, user: Any) -> None:
    """Sign ``user`` in without the login pages (for tests whose subject is another page): a
    session made by Django's test client, its cookie handed to the browser."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
    )


def self_screen_answer(page: Page, code: str, answers: dict[str, str]) -> None:
    """On the public self-screen, tick ``{link_id: answer anchor}`` of instrument ``code``."""
    for link_id, anchor in answers.items():
        page.locator(f"#{code}-item-{link_id}").get_by_label(anchor, exact=True).check()


SCREENSHOT_DIR_ENV = "KETACLINIC_SCREENSHOT_DIR"
STAFF_WIDTHS = (1366, 820)
PATIENT_WIDTHS = (390,)


def screenshots(page: Page, name: str, widths: Sequence[int] = STAFF_WIDTHS) -> list[Path]:
    """Full-page PNGs of the page as it is now at each width (staff pages 1366 and 820 px,
    patient pages 390 px), for a person to open and look at. They go to
    $KETACLINIC_SCREENSHOT_DIR (default ./var/screenshots/), named ``<name>-<width>.png``;
    the viewport is put back afterwards."""
    folder = Path(os.environ.get(SCREENSHOT_DIR_ENV, "var/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    written = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        path = folder / f"{name}-{width}.png"
        page.screenshot(path=path, full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), path
        written.append(path)
    if before is not None:
        page.set_viewport_size(before)
    return written
