"""The administrator registers a program in real headless Chromium: its name, client id,
one patient, scopes and public keys; a wrong key set is refused beside its field; then the
program gets a token with a key of that set. Screenshots at 1366 and 820 px."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from ketaclinic.fhir.smart.models import SmartClient
from ketaclinic.fhir.smart.tests.keys import assertion, jwks, key_pair, token_request
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


def test_the_administrator_registers_a_program_in_pages(
    live_clinic: Clinic, browser: Browser
) -> None:
    clinic = live_clinic
    page = browser.page
    page.set_default_timeout(30_000)
    sign_in(page, "dana", PASSWORD, clinic.totp["dana"])
    page.goto("/setup/")
    screenshots(page, "setup-home-programs")  # the setup page's new card
    page.get_by_role("link", name="Programs (FHIR API)").click()
    expect(page.get_by_role("heading", name="Programs using the FHIR API")).to_be_visible()

    key = key_pair("ES384")
    form = page.get_by_role("region", name="Register a program")
    form.get_by_label("Program name").fill("County registry upload")
    form.get_by_label("Client id").fill("county-registry")
    form.get_by_label("One patient (patient/ scopes)").check()
    form.get_by_label("Patient's MRN").fill(clinic.pat.mrn)
    form.get_by_label("Scopes it may be granted").fill("patient/Observation.rs patient/Patient.r")
    form.get_by_label("Public keys (JWKS)").fill('{"keys": []}')
    form.get_by_role("button", name="Register the program").click()
    refused = page.get_by_role("region", name="Register a program")
    expect(refused.locator(".errorlist")).to_contain_text("at least one key")
    screenshots(page, "smart-clients-refused")
    _axe_clean(page, "the programs page with an error")
    refused.get_by_label("Public keys (JWKS)").fill(jwks(key))
    refused.get_by_role("button", name="Register the program").click()

    expect(page.get_by_role("heading", name="County registry upload")).to_be_visible()
    expect(page.get_by_text("sees one patient")).to_be_visible()
    screenshots(page, "smart-client")
    _axe_clean(page, "a program's page")
    page.get_by_role("link", name="Programs").click()
    expect(page.get_by_role("cell", name="county-registry")).to_be_visible()
    screenshots(page, "smart-clients")
    _axe_clean(page, "the programs page")

    client = SmartClient.objects.get(client_id="county-registry")
    assert client.patient_id == clinic.pat.pk
    answer = token_request(Client(), assertion(client, key), "patient/Observation.rs")
    assert answer.status_code == 200, answer.content
