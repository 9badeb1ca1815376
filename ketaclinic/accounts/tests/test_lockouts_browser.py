"""In headless Chromium, as the administrator: the sign-in lockouts in force, and an unlock."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.test import Client, RequestFactory
from playwright.sync_api import expect

from ketaclinic.accounts.second_person import SecondPersonRefused, second_person_authenticate
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser


def _lock_ben(address: str) -> None:
    client = Client(REMOTE_ADDR=address)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/account/login/",
            {
                "login_view-current_step": "auth",
                "auth-username": "ben",
                "auth-password": "wrong-password",
            },
        )


def _second_check_lock(clinic: Clinic, address: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        request = RequestFactory().post("/", REMOTE_ADDR=address)
        request.user = clinic.users["ben"]
        with contextlib.suppress(SecondPersonRefused):
            second_person_authenticate(request=request, username="ada", password="x", otp="")


def test_the_administrator_sees_lockouts_and_unlocks_one(
    live_clinic: Clinic, browser: Browser, live_server: object
) -> None:
    _lock_ben("10.20.30.40")
    _second_check_lock(live_clinic, "10.20.30.41")
    page = browser.page
    admin = live_clinic.client("dana")  # a session with its second factor verified
    cookie = admin.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": str(live_server)}]
    )
    page.goto("/setup/lockouts/")
    expect(page.get_by_role("heading", name="Sign-in lockouts")).to_be_visible()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("main")).to_contain_text("ada (second check by ben)")
    violations = axe_violations(page)
    assert violations == [], axe_report("sign-in lockouts", violations)
    screenshots(page, "account-lockouts")
    ben = rows.filter(has_text="10.20.30.40")
    ben.get_by_role("button", name="Unlock").click()
    expect(page.locator("main")).to_contain_text("Unlocked. The person can sign in again now.")
    expect(rows).to_have_count(1)
    screenshots(page, "account-lockouts-after-unlock")
