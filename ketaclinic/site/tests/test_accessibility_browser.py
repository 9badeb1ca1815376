"""Every public page in real headless Chromium, checked with the vendored axe-core: no
violation of impact "serious" or "critical". The self-screen is also walked through as a
person would (choose, leave questions out, answer PHQ-9 item 9 above 0, see the result, send
an inquiry with it) and checked for reflow at 200% zoom (640 CSS pixels wide).

The harness (Debian's chromium, skipped without it unless KETACLINIC_REQUIRE_BROWSER=1) is
ketaclinic/testing/browser.py; axe-core is loaded from the app's static files, no network.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Literal

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from ketaclinic.intake.models import Inquiry
from ketaclinic.site.models import Page as SitePage
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    TIMEOUT_MS,
    Browser,
    axe_report,
    axe_violations,
    self_screen_answer,
)

# The shared harness's fixtures, found by name in this module (chromium_path is autouse).
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

ZOOM_200_WIDTH = 640  # a 1280-pixel-wide window at 200% zoom


def _stored_slugs() -> list[str]:
    """The content pages' slugs, loaded again first if an earlier transactional test flushed
    the rows the data migration put in."""
    migration = importlib.import_module("ketaclinic.site.migrations.0002_default_pages")
    migration.load_pages(apps, None)
    return list(SitePage.objects.order_by("position", "slug").values_list("slug", flat=True))


class AxeAudit:
    """Collects violations page by page, so that one run reports every page at once."""

    def __init__(self, page: Page, scheme: str) -> None:
        self.page = page
        self.scheme = scheme
        self.reports: list[str] = []

    def check(self, where: str) -> None:
        violations = axe_violations(self.page)
        if violations:
            self.reports.append(axe_report(f"{where} ({self.scheme} scheme)", violations))

    def assert_clean(self) -> None:
        assert self.reports == [], "\n\n".join(self.reports)


def _goto(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_public_pages_have_no_serious_or_critical_violations(
    live_clinic: Clinic, browser: Browser, scheme: Literal["light", "dark"]
) -> None:
    page = browser.page
    page.emulate_media(color_scheme=scheme)  # Pico follows the system's scheme
    audit = AxeAudit(page, scheme)
    slugs = _stored_slugs()
    assert len(slugs) >= 8  # the shipped pages in ketaclinic/site/content/

    for url in ["/clinic/", *(f"/clinic/{slug}/" for slug in slugs), "/account/login/"]:
        _goto(page, url)
        audit.check(url)

    # The self-screen: choose, questions, the error list, item 9 above 0, the result.
    _goto(page, "/clinic/self-screen/")
    audit.check("self-screen: choose")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#phq9-item-9")).to_be_visible(timeout=TIMEOUT_MS)
    audit.check("self-screen: questions")

    self_screen_answer(page, "gad7", {"1": "Several days", "2": "Nearly every day"})
    page.get_by_role("button", name="See my results").click()
    summary = page.get_by_role("alert").filter(has_text="Some questions need an answer")
    expect(summary).to_be_visible(timeout=TIMEOUT_MS)
    expect(summary.get_by_role("link")).to_have_count(14)
    expect(page.locator("#gad7-item-2").get_by_label("Nearly every day")).to_be_checked()
    audit.check("self-screen: missing answers listed")

    gad7 = {str(n): "More than half the days" for n in range(1, 8)}  # 14: moderate
    phq9 = {str(n): "Several days" for n in range(1, 10)}  # 9 with item 9 at 1: mild
    self_screen_answer(page, "gad7", gad7)
    self_screen_answer(page, "phq9", {k: v for k, v in phq9.items() if k != "9"})
    inline_crisis = page.locator("#phq9-item-9-crisis")
    expect(inline_crisis).to_be_hidden()
    self_screen_answer(page, "phq9", {"9": "Several days"})
    expect(inline_crisis).to_be_visible()
    expect(inline_crisis).to_contain_text("988")
    audit.check("self-screen: item 9 answered above 0")
    self_screen_answer(page, "phq9", {"9": "Not at all"})
    expect(inline_crisis).to_be_hidden()
    self_screen_answer(page, "phq9", {"9": "Several days"})

    page.get_by_role("button", name="See my results").click()
    expect(page.get_by_role("heading", name="Your self-screen results")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    crisis = page.locator("main .crisis-urgent")
    expect(crisis).to_be_visible()
    expect(crisis.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    first_in_main = page.locator("main > *").first
    expect(first_in_main).to_have_class(re.compile(r"\bcrisis-urgent\b"))
    expect(page.locator("main")).to_contain_text("14 out of 21")
    expect(page.locator("main")).to_contain_text("9 out of 27")
    audit.check("self-screen: result with item 9 above 0")
    assert "?" not in page.url and page.url.endswith("/clinic/self-screen/")

    # Send an inquiry with the results, then the thanks page.
    page.get_by_role("button", name="Send an inquiry with these results").click()
    expect(page.get_by_role("heading", name="Ask about treatment")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    attach = page.get_by_label("Send these self-screen results with my inquiry")
    expect(attach).to_be_checked()
    audit.check("inquiry form with self-screen attached")
    page.get_by_role("button", name="Send inquiry").click()
    expect(page.get_by_role("heading", name="Ask about treatment")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    audit.check("inquiry form with errors")
    page.get_by_label("Your name").fill("Alex Axe")
    page.get_by_label("E-mail address").fill("alex@example.org")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send inquiry").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible(timeout=TIMEOUT_MS)
    audit.check("inquiry thanks")

    _goto(page, "/clinic/inquiry/")
    audit.check("inquiry form")

    audit.assert_clean()
    stored = Inquiry.objects.get()
    assert [(s["instrument"], s["total"]) for s in stored.self_screen] == [
        ("gad7", 14),
        ("phq9", 9),
    ]
    assert stored.self_screen[1]["item9_positive"] is True
    browser.problems.assert_none()


def _horizontal_overflow(page: Page) -> Any:
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_self_screen_reflows_at_200_percent_zoom_without_horizontal_scroll(
    live_clinic: Clinic, browser: Browser
) -> None:
    page = browser.page
    page.set_viewport_size({"width": ZOOM_200_WIDTH, "height": 900})
    _goto(page, "/clinic/self-screen/")
    assert _horizontal_overflow(page) <= 0, "choose page scrolls sideways"
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#phq9-item-9")).to_be_visible(timeout=TIMEOUT_MS)
    assert _horizontal_overflow(page) <= 0, "questions scroll sideways"
    target = page.locator("#phq9-item-8 label.answer-option").first.bounding_box()
    assert target is not None and target["height"] >= 44  # a large touch target
    self_screen_answer(page, "gad7", {str(n): "Nearly every day" for n in range(1, 8)})
    self_screen_answer(page, "phq9", {str(n): "Nearly every day" for n in range(1, 10)})
    page.get_by_role("button", name="See my results").click()
    expect(page.get_by_role("heading", name="Your self-screen results")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    assert _horizontal_overflow(page) <= 0, "result scrolls sideways"
    browser.problems.assert_none()


def test_the_axe_check_finds_a_planted_violation(live_clinic: Clinic, browser: Browser) -> None:
    """The harness really runs axe: an image without a text alternative is reported."""
    page = browser.page
    _goto(page, "/clinic/")
    assert axe_violations(page) == []
    page.evaluate(
        """() => {
          const image = document.createElement("img");
          image.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
          document.querySelector("main").append(image);
        }"""
    )
    found = axe_violations(page)
    assert [v["id"] for v in found] == ["image-alt"]
    assert "image-alt (critical)" in axe_report("/clinic/", found)
