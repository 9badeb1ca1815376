"""In headless Chromium, on the demo clinic (``ketaclinic demo``, its sessions charted through
the apps' services: vitals, doses, stops, assessments): the clinician's outcomes page shows the
denominators beside every rate, the published comparison, and the safety section with its dose
bands and early stops, each with what it counts among; nothing scrolls sideways at 820 px."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _midday_zone() -> str:
    """A fixed-offset zone where it is about noon now. The demo builds its day around the
    moment it runs, and near midnight its earlier sessions fall on a day without a prescriber
    on site (the demo's own matter, left to it); the outcomes page does not depend on the hour."""
    offset = 12 - datetime.now(UTC).hour  # local = UTC + offset
    offset = (offset + 12) % 24 - 12  # into -12..11
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def test_outcomes_page_on_the_demo_clinic(
    live_clinic: Clinic, browser: Browser, live_server: object, settings: Any
) -> None:
    settings.TIME_ZONE = _midday_zone()
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure as protocols
    from ketaclinic.eligibility.tests.eligibility_helpers import shipped_rows_ensure as rules

    protocols()
    rules()
    call_command("demo", "--patients", "13", stdout=StringIO())
    run = outcomes_refresh(acting_user=live_clinic.users["dana"])
    assert run.courses > 0
    page = browser.page
    harness.sign_in(page, "ada", PASSWORD, live_clinic.totp["ada"])
    page.goto("/outcomes/")
    expect(page.get_by_role("heading", name="Outcomes", exact=True)).to_be_visible()
    rate_cells = page.locator("table.rates tbody td")
    assert rate_cells.count() >= 4
    for i in range(rate_cells.count()):
        text = rate_cells.nth(i).inner_text()
        if "%" in text:
            assert "started" in text, text  # every rate beside its denominator
    expect(page.locator(".outcome-cell header").first).to_contain_text("missing")
    expect(page.locator("#published-heading")).to_be_visible()
    expect(page.locator("article.published").first).to_be_visible()
    safety = page.locator("section[aria-labelledby=safety-heading]")
    expect(safety).to_contain_text("infusions given")
    expect(safety).to_contain_text("Stopped before the planned minutes")
    expect(safety).to_contain_text("infusions with planned minutes and a charted stop")
    expect(safety).to_contain_text("0.5 to under 0.75 mg/kg")
    expect(safety.locator("table").nth(1)).to_contain_text(" of ")
    assert axe_violations(page) == [], axe_report("outcomes", axe_violations(page))
    safety.scroll_into_view_if_needed()
    screenshots(page, "outcomes-demo")
    page.set_viewport_size({"width": 820, "height": 900})
    scroll = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert scroll <= 0
    problems = browser.problems
    assert (problems.page_errors, problems.csp_violations, problems.server_errors) == ([], [], [])
