"""The trends page in real headless Chromium: the chart canvas is drawn, the severity bands
and the marker of a real infusion session are in Chart.js's configuration, and there are
no console or CSP errors.

Launched as in tests/test_browser.py: Debian's chromium, skipped when missing unless
KETACLINIC_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic, make_clinic

from .infusions import infusion_started

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
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__ketaclinicCspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

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
def live_clinic(transactional_db: Any) -> Clinic:
    return make_clinic()


@pytest.fixture
def problems() -> list[str]:
    return []


@pytest.fixture
def page(
    chromium_path: Path,
    live_server: LiveServer,
    live_clinic: Clinic,
    problems: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Page]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Nurse Ben's session, made by Django's test client and handed to the browser.
    client = Client()
    client.force_login(live_clinic.users["ben"])
    session = client.cookies["sessionid"].value
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = chromium.new_context(base_url=live_server.url)
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])

            def on_csp_violation(description: str) -> None:
                problems.append(f"csp: {description}")

            context.expose_function("__ketaclinicCspViolation", on_csp_violation)
            context.add_init_script(CSP_LISTENER)
            browser_page = context.new_page()

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    problems.append(f"console: {message.text}")

            browser_page.on("console", on_console)
            browser_page.on("pageerror", lambda error: problems.append(f"page: {error}"))
            yield browser_page
            context.close()
        finally:
            chromium.close()


CHART_CONFIG = """
() => {
  const chart = Chart.getChart(document.getElementById("chart-gad7"));
  const annotations = chart.options.plugins.annotation.annotations;
  return Object.fromEntries(Object.entries(annotations).map(([key, a]) => [key, {
    type: a.type, xMin: a.xMin ?? null, yMin: a.yMin ?? null, yMax: a.yMax ?? null
  }]));
}
"""

NON_BLANK_PIXELS = """
() => {
  const canvas = document.getElementById("chart-gad7");
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) painted += 1; }
  return { painted, total: canvas.width * canvas.height };
}
"""


def test_trends_chart_renders_with_bands_and_an_infusion_marker(
    live_clinic: Clinic,
    page: Page,
    problems: list[str],
    tmp_path: Path,
) -> None:
    pat = live_clinic.pat
    for total, days in [(17, 30), (15, 22), (11, 14), (7, 7), (4, 1)]:
        answers = {str(n): min(3, max(0, total - 3 * (n - 1))) for n in range(1, 8)}
        administration_record(
            acting_user=live_clinic.users["ben"],
            patient=pat,
            instrument_code="gad7",
            answers=answers,
            administered_at=timezone.now() - timedelta(days=days),
        )
    # A real session, started through the chart API, then moved to 20 days ago.
    infusion = infusion_started(live_clinic, timezone.now() - timedelta(days=20)).start

    response = page.goto(f"/scales/patients/{pat.pk}/trends/")
    assert response is not None and response.status == 200
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('chart-gad7'))"
    )

    pixels = page.evaluate(NON_BLANK_PIXELS)
    assert pixels["total"] > 0
    assert pixels["painted"] > pixels["total"] * 0.05, pixels

    annotations = page.evaluate(CHART_CONFIG)
    bands = {key: a for key, a in annotations.items() if key.startswith("band-")}
    assert len(bands) == 4  # GAD-7: minimal, mild, moderate, severe
    assert all(a["type"] == "box" for a in bands.values())
    assert annotations["infusion-0"]["type"] == "line"
    assert annotations["infusion-0"]["xMin"] == int(infusion.timestamp() * 1000)
    assert annotations["remission"]["yMin"] == 5
    assert annotations["response"]["yMin"] == 15 * 0.5  # baseline: the last score before it

    # Item-level answers on demand.
    page.get_by_role("button", name="Show answers").first.click()
    page.get_by_text("Feeling nervous, anxious, or on edge").first.wait_for()

    screenshot = tmp_path / "trends.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    page.emulate_media(media="print")
    assert page.locator("header nav").is_hidden()
    assert problems == []
