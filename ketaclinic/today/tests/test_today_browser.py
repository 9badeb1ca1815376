"""In headless Chromium, on the demo clinic in the middle of its day: each role signs in and
lands on its Today page; the nurse reaches the vitals entry of the infusing session in two
clicks, the clinician a hold to review, intake sees the urgent inquiry first. The staff
navigation stays on one line at 820 px without a horizontal scroll; axe finds no serious or
critical violation on the staff pages and the sign-in, 2FA and password pages; screenshots of
each at 1366 and 820 px go to var/screenshots/ (``today-*``, ``signin-*``, ...)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from ketaclinic.infusions.models import Session
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    STAFF_WIDTHS,
    TIMEOUT_MS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
    sign_in,
    sign_out,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _shipped_rows_ensure() -> None:
    """The rows the data migrations ship (protocols, eligibility rules, consent documents),
    loaded again if an earlier transactional test flushed them."""
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure as protocols
    from ketaclinic.eligibility.tests.eligibility_helpers import shipped_rows_ensure as rules

    protocols()
    rules()


WIDE, TABLET = STAFF_WIDTHS


class Checks:
    """Axe and the 820 px layout, page by page; one report at the end."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.reports: list[str] = []

    def look(self, where: str, name: str) -> None:
        violations = axe_violations(self.page)
        if violations:
            self.reports.append(axe_report(where, violations))
        before = self.page.viewport_size
        self.page.set_viewport_size({"width": TABLET, "height": 900})
        layout = self.page.evaluate(
            """() => {
                const nav = document.querySelector('nav[aria-label="Main"]');
                const items = nav ? [...nav.querySelectorAll(':scope > ul > li')] : [];
                const boxes = items.map(li => li.getBoundingClientRect());
                // One line: every item's vertical extent overlaps every other's.
                const oneLine = boxes.length === 0 ||
                    Math.max(...boxes.map(b => b.top)) < Math.min(...boxes.map(b => b.bottom));
                const width = document.documentElement.clientWidth;
                const wide = [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().right > width + 1)
                    .slice(0, 3)
                    .map(el => el.tagName + '.' + el.className);
                return {
                    wide: wide,
                    scroll: document.documentElement.scrollWidth,
                    client: document.documentElement.clientWidth,
                    navOneLine: oneLine,
                    navRight: nav ? Math.round(nav.getBoundingClientRect().right) : 0,
                };
            }"""
        )
        if layout["scroll"] > layout["client"]:
            self.reports.append(f"{where}: horizontal scroll at {TABLET} px: {layout}")
        if not layout["navOneLine"] or layout["navRight"] > TABLET:
            self.reports.append(f"{where}: the navigation wraps at {TABLET} px: {layout}")
        if before is not None:
            self.page.set_viewport_size(before)
        screenshots(self.page, name)

    def assert_clean(self) -> None:
        assert self.reports == [], "\n\n".join(self.reports)


def test_each_role_works_its_day_from_today_on_the_demo_clinic(
    live_clinic: Clinic, browser: Browser
) -> None:
    _shipped_rows_ensure()
    call_command("demo", stdout=StringIO())
    page = browser.page
    page.set_viewport_size({"width": WIDE, "height": 900})
    checks = Checks(page)
    today = timezone.localdate()
    infusing = Session.objects.select_related("course__patient").get(
        status="infusing", start__date=today
    )
    held = (
        Session.objects.select_related("course__patient")
        .filter(status="checked_in", vitals__systolic_mmhg__gte=140, start__date=today)
        .distinct()
        .get()
    )

    # A visitor: / is the public site; the sign-in page links to it and to "forgot password".
    page.goto("/")
    expect(page).to_have_url(f"{page.url.split('/clinic/')[0]}/clinic/")
    checks.look("public home", "public-home")
    page.goto("/account/login/")
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    expect(page.get_by_role("link", name="Visit the clinic's public site")).to_be_visible()
    checks.look("sign-in", "signin")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    checks.look("password reset", "password-reset")
    page.get_by_label("Email").fill("ben@clinic.example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    # The nurse: Today, then one click on the infusing chair's "Record vitals".
    sign_in(page, "ben", PASSWORD)
    expect(page).to_have_url(f"{page.url.split('/today/')[0]}/today/")
    expect(page.locator("details.kc-account summary")).to_contain_text("Infusion nurse")
    checks.look("Today (nurse)", "today-nurse")
    name = f"{infusing.course.patient.family_name}, {infusing.course.patient.given_name}"
    page.get_by_role("link", name=f"Record vitals for {name}").click()
    expect(page).to_have_url(
        f"{page.url.split('/infusions/')[0]}/infusions/sessions/{infusing.pk}/#step-vitals"
    )
    vitals_form = page.locator("#step-vitals form.vitals-form")
    expect(vitals_form).to_be_visible(timeout=TIMEOUT_MS)
    expect(vitals_form.get_by_role("button", name="Record vital signs")).to_be_visible()
    # 2FA setup is offered to a nurse (optional for the role): the clinic's own template.
    page.goto("/account/two_factor/setup/")
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    checks.look("2FA setup", "twofactor-setup")
    sign_out(page)

    # The clinician: the hold to review is one click from Today.
    sign_in(page, "ada", PASSWORD, live_clinic.totp["ada"])
    checks.look("Today (clinician)", "today-clinician")
    holds = page.get_by_role("article").filter(
        has=page.get_by_role("heading", name="Holds to review")
    )
    held_name = f"{held.course.patient.family_name}, {held.course.patient.given_name}"
    holds.get_by_role("link", name=held_name).click()
    expect(page).to_have_url(
        f"{page.url.split('/infusions/')[0]}/infusions/sessions/{held.pk}/#step-review"
    )
    expect(
        page.get_by_role("heading", name="Clinician review of the pre-dose hold")
    ).to_be_visible()
    # She records and signs her review there; back on Today, the hold has left her list.
    review = page.locator("#step-review")
    review.get_by_label("Review: why the dose may go ahead").fill(
        "Repeat BP after 10 min rest within her usual range"
    )
    review.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("Review recorded: the dose may go ahead.")).to_be_visible()
    page.goto("/today/")
    expect(
        page.get_by_role("article")
        .filter(has=page.get_by_role("heading", name="Holds to review"))
        .get_by_role("link", name=held_name)
    ).to_have_count(0)
    sign_out(page)

    # Intake: the urgent inquiry first among the new ones.
    sign_in(page, "cleo", PASSWORD)
    checks.look("Today (intake)", "today-intake")
    first_new = page.locator("#new-inquiries > li").first
    expect(first_new).to_contain_text("Sasha Demo-Urgent")
    expect(first_new).to_contain_text("Urgent")
    first_new.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Sasha Demo-Urgent")).to_be_visible()
    sign_out(page)

    # The administrator: stock, counts, DEA, sign-ins and the chains' verification.
    sign_in(page, "dana", PASSWORD, live_clinic.totp["dana"])
    expect(page.get_by_role("heading", name="Audit trail and ledger verification")).to_be_visible()
    checks.look("Today (administrator)", "today-admin")
    page.get_by_role("button", name="Verify both now").click()
    expect(page.get_by_text("The audit trail and the ketamine ledger verify.")).to_be_visible()
    page.goto("/account/two_factor/")
    checks.look("security (2FA profile)", "security")
    sign_out(page)

    checks.assert_clean()
    browser.problems.assert_none()
