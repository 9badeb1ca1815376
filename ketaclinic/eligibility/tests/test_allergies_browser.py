"""The evaluation page's allergies in headless Chromium: an empty list is recorded as "no known
allergies" (the form says so; the evaluation shows "None known"; FHIR serves SNOMED CT
716186003). Screenshots at 1366 and 820 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.eligibility.models import Allergy, Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import shipped_rows_ensure
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, screenshots

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def test_an_empty_allergy_list_is_recorded_and_shown_as_none_known(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    shipped_rows_ensure()
    page = browser.page
    page.set_default_timeout(60_000)
    harness.sign_in(page, "ada", PASSWORD, live_clinic.totp["ada"])
    page.goto(f"/intake/patients/{live_clinic.pat.pk}/evaluations/new/")
    page.get_by_label("F41.1 Generalized anxiety disorder").check()
    allergies = page.get_by_label("Allergies")
    expect(allergies).to_have_value("")
    expect(page.get_by_text("recorded as no known allergies")).to_be_visible()
    allergies.scroll_into_view_if_needed()
    screenshots(page, "evaluation-allergies-field")
    page.get_by_role("button", name="Record the evaluation").click()
    expect(page.get_by_text("None known")).to_be_visible()
    screenshots(page, "evaluation-no-known-allergies")
    evaluation = Evaluation.objects.get(patient=live_clinic.pat)
    (allergy,) = Allergy.objects.filter(evaluation=evaluation)
    assert allergy.no_known and allergy.substance == ""
    browser.problems.assert_none()
