"""A whole session charted through the chart page in real headless Chromium: Nurse Ben from
check-in to discharge, Dr Ada reviewing the pre-dose hold on her own screen and typing her own
credentials into Ben's page for the second check; both sign, and the page shows the signed
record's digest verified.

The harness (Chromium, live server, problem collection) is ``ketaclinic/testing/browser.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.models import ChartEntry, ChartEntryKind
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for, ledger_container
from ketaclinic.testing import PASSWORD, make_clinic, totp_now
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, screenshots, session_given

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
browser = harness.browser

pytestmark = pytest.mark.browser


@pytest.fixture
def booked(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> Chart:
    """Pat booked in 30 minutes, Dr Ada on site as the prescriber (the driver marks her
    present today), ketamine in the safe, committed so that the live server's thread sees it."""
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(make_clinic(), chair="Chair 4")
    ledger_container(chart.clinic)  # a 10 mg/mL vial in the safe, received by Admin Dana
    return chart


@pytest.fixture
def ada_page(browser: Browser, live_server: LiveServer, booked: Chart) -> Iterator[Page]:
    """Dr Ada's own screen: a second browser context, signed in with her second factor
    verified, watched for the same problems as Ben's."""
    context = browser.page.context.browser.new_context(base_url=live_server.url)  # type: ignore[union-attr]
    context.set_default_timeout(harness.TIMEOUT_MS)
    context.expose_function("__ketaclinicCspViolation", browser.problems.on_csp_violation)
    context.add_init_script(harness.CSP_LISTENER)
    page = context.new_page()
    page.on("console", browser.problems.on_console)
    page.on("pageerror", browser.problems.on_page_error)
    page.on("response", browser.problems.on_response)
    client = booked.clinic.client("ada")  # a session with her TOTP device verified
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    yield page
    context.close()


def expect_next(page: Page, title: str) -> Locator:
    expect(page.locator("#next-step-title")).to_have_text(f"Next: {title}")
    return page.locator("#next-step")


def test_a_nurse_charts_a_booked_session_from_check_in_to_signing(
    booked: Chart, browser: Browser, ada_page: Page, live_server: LiveServer
) -> None:
    page = browser.page
    chart_url = f"/infusions/sessions/{booked.session.pk}/"
    session_given(page, live_server.url, booked.clinic.users["ben"])  # Nurse Ben
    page.goto(chart_url)

    expect_next(page, "Check-in").get_by_role("button", name="Check in").click()

    step = expect_next(page, "Pre-checks")
    # Consent is what the consent app knows (Pat has signed), not a box to tick.
    expect(step).to_contain_text("Consent current: all required documents signed")
    for label in (
        "Identity confirmed (two identifiers)",
        "Fasting as instructed",
        "Escort home confirmed",
        "Pre-dose questionnaires done",
    ):
        step.get_by_label(label).check()
    step.get_by_label("Pregnancy test").select_option("not_applicable")
    step.get_by_label("Weight (kg)").fill("72.5")
    yesterday = timezone.localtime(timezone.now() - timedelta(days=1))
    step.get_by_label("Weight measured at").fill(yesterday.strftime("%Y-%m-%dT%H:%M"))
    step.get_by_role("button", name="Record pre-checks").click()
    expect(page.get_by_text("Pre-checks recorded.")).to_be_visible()

    step = expect_next(page, "Baseline vital signs")
    for label, value in (
        ("Systolic (mmHg)", "150"),
        ("Diastolic (mmHg)", "95"),
        ("Heart rate (/min)", "76"),
        ("SpO2 (%)", "98"),
        ("Respiratory rate (/min)", "14"),
    ):
        step.get_by_label(label).fill(value)
    step.get_by_role("button", name="Record vital signs").click()

    # The BP holds the dose: the nurse sees whose step it is; Dr Ada reviews on her screen.
    step = expect_next(page, "Clinician review of the pre-dose hold")
    expect(step).to_contain_text("This step is for a clinician.")
    expect(page.locator("#step-start")).to_contain_text("Pre-dose hold, a clinician must review")
    ada_page.goto(chart_url)
    review = expect_next(ada_page, "Clinician review of the pre-dose hold")
    review.get_by_label("Review: why the dose may go ahead").fill(
        "Repeat BP after 10 min rest 136/86; anxious on arrival"
    )
    review.get_by_role("button", name="Record the review").click()
    expect(ada_page.get_by_text("Review recorded: the dose may go ahead.")).to_be_visible()

    page.reload()
    step = expect_next(page, "Dose calculation")
    step.get_by_label("Weight (kg)").fill("72.5")
    step.get_by_label("Concentration (mg/mL)").fill("10")
    step.get_by_label("Bag volume (mL)").fill("100")
    step.get_by_role("button", name="Calculate the dose").click()
    expect(
        page.get_by_text("Dose calculated: 36.3 mg = 3.63 mL at 155.4 mL/h over 40 min.")
    ).to_be_visible()

    # Dr Ada types her own credentials into Ben's page.
    step = expect_next(page, "Second check of the dose")
    expect(step).to_contain_text("0.5 mg/kg x 72.5 kg = 36.25 mg")
    step.get_by_label("Second checker's username").fill("ada")
    step.get_by_label("Second checker's password").fill(PASSWORD)
    step.get_by_label("Second checker's TOTP code").fill(totp_now(booked.clinic.totp["ada"]))
    step.get_by_role("button", name="Confirm the second check").click()
    expect(page.get_by_text("Second check by ada recorded.")).to_be_visible()

    # The dose is drawn from the ledger, on the ledger's own draw page, for this session.
    step = expect_next(page, "Ketamine draw from the ledger")
    expect(step).to_contain_text("No ketamine draw from the ledger is recorded")
    screenshots(page, "chart-draw-needed")
    vial = ledger_container(booked.clinic)
    page.goto(f"/ledger/containers/{vial.pk}/draw/?session={booked.session.pk}")
    page.get_by_label("Volume drawn (mL)").fill("3.63")
    page.get_by_role("button", name="Record the draw").click()
    expect(page.get_by_text("recorded: 3.63 mL")).to_be_visible()
    page.goto(chart_url)

    step = expect_next(page, "Start the infusion")
    expect(page.locator("ul.draws")).to_contain_text("3.63 mL of 10 mg/mL = 36.3 mg")
    screenshots(page, "chart-drawn-before-start")
    violations = harness.axe_violations(page)
    assert violations == [], harness.axe_report("the chart page before the start", violations)
    expect(step).to_contain_text("Everything the start needs is in place.")
    step.get_by_role("button", name="Start the infusion").click()
    expect(page.get_by_text("Infusion started.")).to_be_visible()

    step = expect_next(page, "Stop the infusion")
    vitals = page.locator("#step-vitals")
    for label, value in (
        ("Systolic (mmHg)", "132"),
        ("Diastolic (mmHg)", "84"),
        ("Heart rate (/min)", "80"),
        ("SpO2 (%)", "97"),
        ("Respiratory rate (/min)", "14"),
        ("MOAA/S (0-5)", "4"),
    ):
        vitals.get_by_label(label).fill(value)
    vitals.get_by_role("button", name="Record vital signs").click()
    expect(page.get_by_text("Vital signs recorded.")).to_be_visible()
    step = expect_next(page, "Stop the infusion")
    violations = harness.axe_violations(page)
    assert violations == [], harness.axe_report("the chart page while infusing", violations)
    expect(step).to_contain_text("Drawn up for this dose: 3.63 mL.")
    step.get_by_label("Drug volume actually given (mL)").fill("3.63")
    step.get_by_role("button", name="Stop the infusion").click()
    expect(page.get_by_text("Infusion stopped; 36.3 mg given.")).to_be_visible()

    # An hour of observation later (the stop moved back rather than waited for).
    ChartEntry.objects.filter(session=booked.session, kind=ChartEntryKind.INFUSION_STOP).update(
        at=timezone.now() - timedelta(minutes=61)
    )
    page.reload()
    step = expect_next(page, "Discharge")
    step.get_by_label("Modified Aldrete score (0-10)").fill("10")
    step.get_by_label("Escort present").check()
    step.get_by_label("Discharge instructions given").check()
    step.get_by_role("button", name="Discharge").click()
    expect(page.get_by_text("Discharged. Nurse and clinician sign")).to_be_visible()

    expect_next(page, "Sign the session record").get_by_role(
        "button", name="Sign the session record"
    ).click()
    expect(page.get_by_text("Signature recorded.")).to_be_visible()
    ada_page.goto(chart_url)
    expect_next(ada_page, "Sign the session record").get_by_role(
        "button", name="Sign the session record"
    ).click()
    expect(ada_page.get_by_text("Signed; the record is frozen.")).to_be_visible()
    expect(ada_page.locator(".signed")).to_contain_text("digest verified")

    page.reload()
    expect(page.locator(".signed")).to_contain_text("digest verified")
    expect(page.locator("#next-step")).to_have_count(0)
    assert booked.refresh().status == "signed"
    browser.problems.assert_none()
