"""The trends page in real headless Chromium: the chart canvas is drawn, the severity bands
and the marker of a real infusion session are in Chart.js's configuration, and there are
no console or CSP errors.

The harness (Chromium, live server, problem collection) is ``ketaclinic/testing/browser.py``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import SCREENSHOT_TIMEOUT_MS, Browser, session_given

from .infusions import infusion_started

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.browser


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
    browser: Browser,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    page = browser.page
    session_given(page, live_server.url, live_clinic.users["ben"])  # Nurse Ben
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
    page.screenshot(path=screenshot, full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    page.emulate_media(media="print")
    assert page.locator("header nav").is_hidden()
    browser.problems.assert_none()
