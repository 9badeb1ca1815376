"""The administrator, in real headless Chromium, changes one eligibility threshold in the rules
form (with the sources beside the values) and adds a new version of a consent document, both
from the Setup page; nothing is left to JSON or the API. Screenshots at 1366 and 820 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ketaclinic.consent.models import ConsentDocument
from ketaclinic.eligibility.models import RuleSetVersion
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots, sign_in

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _axe_clean(page: object, where: str) -> None:
    violations = axe_violations(page)  # type: ignore[arg-type]
    assert violations == [], axe_report(where, violations)


def _no_horizontal_scroll(page: object) -> None:
    width = page.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert width <= 0, f"{width} px of horizontal scroll"


def test_the_administrator_changes_a_threshold_and_adds_a_consent_version(
    live_clinic: Clinic, browser: Browser
) -> None:
    page = browser.page
    page.set_default_timeout(30_000)
    sign_in(page, "dana", PASSWORD, live_clinic.totp["dana"])

    # The eligibility rules as a form: the absolute blood-pressure limit lowered to 175.
    page.goto("/setup/")
    page.get_by_role("link", name="Eligibility rules", exact=True).click()
    expect(page.get_by_role("heading", name="Eligibility rules")).to_be_visible()
    expect(page.get_by_label("Wording shown in proposals").first).to_have_value(
        "Blood pressure at evaluation at or above 180 mmHg systolic or 110 mmHg diastolic."
    )
    systolic = page.get_by_label("At or above · systolic (mmHg)").first
    expect(systolic).to_have_value("180")
    systolic.fill("one-seventy")
    page.get_by_label("Why this version").fill("Medical director, 2026-12-01")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("must be a whole number, 0 or more")).to_be_visible()
    assert RuleSetVersion.objects.count() == 1
    page.get_by_label("At or above · systolic (mmHg)").first.fill("175")
    page.get_by_label("Wording shown in proposals").first.fill(
        "Blood pressure at evaluation at or above 175 mmHg systolic or 110 mmHg diastolic."
    )
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_have_text("Rule set 2025.2 saved and now in use.")
    new = RuleSetVersion.objects.get(active=True)
    assert new.rules_json["rules"][8]["condition"]["vitals_any_at_least"]["systolic"] == 175
    assert (
        RuleSetVersion.objects.get(version="2025.1").rules_json["rules"][8]["condition"][
            "vitals_any_at_least"
        ]["systolic"]
        == 180
    )
    expect(page.get_by_label("At or above · systolic (mmHg)").first).to_have_value("175")
    screenshots(page, "setup-eligibility-rules")
    _no_horizontal_scroll(page)
    _axe_clean(page, "the eligibility rules form")

    # A new version of the treatment consent.
    page.goto("/setup/")
    page.get_by_role("link", name="Consent documents").click()
    expect(page.get_by_role("heading", name="Consent documents")).to_be_visible()
    old = ConsentDocument.objects.get(code="ketamine_treatment", active=True)
    page.get_by_role("button", name=f"Add a new version of {old.title}").click()
    body = page.get_by_label("Text of the document")
    body.fill(old.body + "\n\nBring a list of your medicines to every session.")
    screenshots(page, "setup-consent-new-version")
    _no_horizontal_scroll(page)
    _axe_clean(page, "the new consent version form")
    page.get_by_role("button", name=f"Save version {old.version + 1}").click()
    expect(page.get_by_role("status")).to_have_text(
        f"{old.title}: version {old.version + 1} saved and now in use."
    )
    new_doc = ConsentDocument.objects.get(code="ketamine_treatment", active=True)
    assert new_doc.version == old.version + 1
    old.refresh_from_db()
    assert not old.active and "Bring a list" not in old.body
    screenshots(page, "setup-consent-documents")
    _no_horizontal_scroll(page)
    _axe_clean(page, "the consent documents page")
    problems = browser.problems
    # The one console error is the refused threshold's 422, on purpose.
    assert [e for e in problems.console_errors if "status of 422" not in e] == []
    assert (problems.page_errors, problems.csp_violations, problems.server_errors) == ([], [], [])
