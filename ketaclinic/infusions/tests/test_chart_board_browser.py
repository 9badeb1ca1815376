"""The chair board in real headless Chromium: a new alert shows within 10 seconds of the vitals
post, without a reload, and what the nurse was typing stays.

Debian's chromium, driven by Playwright (never downloaded). Without /usr/bin/chromium this test
skips, unless KETACLINIC_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import make_clinic

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ALERT_WITHIN_MS = 10_000

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)"
        if os.environ.get("KETACLINIC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"KETACLINIC_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def infusing(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> Chart:
    """Pat infusing in a chair, committed so that the live server's thread sees it."""
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(make_clinic(), chair="Chair 3")
    chart.infusing()
    return chart


@pytest.fixture
def nurse_page(
    chromium_path: Path,
    live_server: LiveServer,
    infusing: Chart,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Page, list[str]]]:
    # Playwright's sync API keeps an asyncio loop in this thread; the ORM calls of the test
    # are not concurrent with it (see tests/test_browser.py).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    client = Client()
    client.force_login(infusing.clinic.users["ben"])
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(base_url=live_server.url)
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
            page = context.new_page()
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" else None,
            )
            yield page, problems
            context.close()
        finally:
            browser.close()


def test_the_chair_board_shows_a_new_alert_without_a_reload(
    infusing: Chart, nurse_page: tuple[Page, list[str]]
) -> None:
    page, problems = nurse_page
    page.goto("/infusions/board/")
    row = page.locator(f'tr[data-session="{infusing.session.pk}"]')
    expect(row).to_contain_text("Chair 3")
    expect(row).to_contain_text("Example, Pat")
    expect(row).to_contain_text("Infusing")
    expect(row.locator(".alert-open")).to_have_count(0)
    note = page.get_by_label("Station note (not saved; kept across refreshes)")
    note.fill("Chair 3 asked for a blanket")
    page.evaluate("window.__notReloaded = true")

    response = infusing.vitals(heart_rate=124)
    assert response.status_code == 201
    assert [a["code"] for a in response.json()["alerts"]] == ["hr_high"]

    alert = row.locator(".alert-open")
    expect(alert).to_contain_text("hr_high", timeout=ALERT_WITHIN_MS)
    expect(alert).to_contain_text("Heart rate at or above 110/min")
    expect(row).to_have_class("has-alert")
    expect(row).to_contain_text("HR 124")
    assert page.evaluate("window.__notReloaded") is True
    expect(note).to_have_value("Chair 3 asked for a blanket")
    assert problems == []
