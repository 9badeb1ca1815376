"""In headless Chromium, a clinician opens the clinic outcomes page over a synthetic cohort:
every rate shows its denominators (started, with data, missing), the published comparison is
there with its differences, nothing scrolls sideways at 820 px; and the patient page shows a
course's outcome summary."""

from __future__ import annotations

import random

from playwright.sync_api import Page, expect

from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

DIAGNOSES = ("F41.1", "F41.1", "F41.1", "F40.10", "F41.0", "F42.2")


def _specs(n: int) -> list[Spec]:
    rng = random.Random(14)  # noqa: S311  synthetic data, not security
    specs = []
    for i in range(n):
        baseline = rng.randint(10, 21)
        drop = rng.uniform(0.0, 0.14)
        after: list[int | None] = []
        for k in range(1, 7):
            value = round(baseline * (1 - drop) ** k + rng.gauss(0, 1.2))
            after.append(None if rng.random() < 0.15 else max(0, min(21, value)))
        follow = None if rng.random() < 0.4 else max(0, min(21, (after[-1] or baseline) + 2))
        specs.append(
            Spec(
                DIAGNOSES[i % len(DIAGNOSES)],
                None if rng.random() < 0.1 else baseline,
                tuple(after),
                follow_up=follow,
            )
        )
    return specs


def _wider_than_the_window(page: Page) -> list[str]:
    """Elements of the page's main content reaching past the window's right edge. (The main
    navigation of main's base template already overflows at 820 px for a clinician, on every
    page: the layout issue's to fix, so it is not measured here.)"""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .map(e => e.tagName + '.' + e.className)"""
    )
    return found


def test_outcomes_page_shows_denominators_and_the_published_comparison(
    live_clinic: Clinic, browser: Browser, live_server: object
) -> None:
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure

    shipped_rows_ensure()  # an earlier live-server test's flush took the shipped protocols
    courses = build_cohort(_specs(40), clinician=live_clinic.users["ada"])
    outcomes_refresh(acting_user=live_clinic.users["dana"])
    page = browser.page
    harness.sign_in(page, "ada", PASSWORD, live_clinic.totp["ada"])

    page.goto("/outcomes/")
    expect(page.get_by_role("heading", name="Outcomes", exact=True)).to_be_visible()
    rate_cells = page.locator("table.rates tbody td")
    assert rate_cells.count() >= 10
    for i in range(rate_cells.count()):
        text = rate_cells.nth(i).inner_text()
        if "%" in text:
            assert "started" in text, text  # every rate beside its denominator
    expect(page.locator(".outcome-cell header").first).to_contain_text("missing")
    published = page.locator("#published-heading")
    expect(published).to_be_visible()
    expect(page.locator("article.published").first).to_contain_text("Hull 2022")
    expect(page.locator(".clinic-headline")).to_contain_text("with data")
    expect(page.locator("svg.outcome-chart").first).to_be_visible()
    assert axe_violations(page) == [], axe_report("outcomes", axe_violations(page))
    screenshots(page, "outcomes-clinic")
    page.set_viewport_size({"width": 820, "height": 900})
    assert _wider_than_the_window(page) == []

    page.goto("/outcomes/?measure=gad7&timepoint=infusion%3A4&disorder=gad")
    expect(page.locator(".outcome-cell header").first).to_contain_text("started")
    assert _wider_than_the_window(page) == []
    screenshots(page, "outcomes-clinic-infusion4")

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/patients/{courses[0].patient_id}/")
    summary = page.locator("article.outcome-summary")
    expect(summary).to_contain_text("GAD-7")
    expect(summary).to_contain_text("baseline")
    screenshots(page, "outcomes-patient-summary")
    from ketaclinic.outcomes.publishing import figure_approve, figure_choose

    figure = figure_choose(
        acting_user=live_clinic.users["dana"], measure="gad7", timepoint="infusion:6"
    )
    figure_approve(acting_user=live_clinic.users["ada"], figure_id=figure.pk)
    page.goto("/outcomes/public/")
    expect(page.locator("article.public-figure")).to_contain_text("started")
    expect(page.locator("article.public-figure")).to_contain_text("not shown, because fewer")
    screenshots(page, "outcomes-public", (1366, 820, 390))
    page.set_viewport_size({"width": 390, "height": 900})
    assert _wider_than_the_window(page) == []
    problems = browser.problems
    assert (problems.page_errors, problems.csp_violations, problems.server_errors) == ([], [], [])
