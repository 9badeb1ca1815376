"""In headless Chromium at a phone's width (390 px), in Spanish: a patient switches the portal
to Spanish, reads the home page in Spanish, answers a due GAD-7 in its official Spanish
wording, signs out (the sign-in page stays Spanish) and in again: still Spanish. Axe finds
nothing serious; screenshots at 390 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.portal.models import LanguagePreference
from ketaclinic.scales.instruments.translations import SPANISH
from ketaclinic.scales.models import Administration, RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    ACCOUNT_MENU,
    PATIENT_WIDTHS,
    TIMEOUT_MS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
    sign_in,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _look(browser: Browser, name: str) -> None:
    violations = axe_violations(browser.page)
    assert violations == [], axe_report(name, violations)
    screenshots(browser.page, name, PATIENT_WIDTHS)
    # Nothing wider than the phone: no sideways scrolling in Spanish's longer words.
    overflow = browser.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow} px of horizontal scroll"


def test_a_patient_uses_the_portal_in_spanish_and_it_stays_spanish(
    live_clinic: Clinic, browser: Browser
) -> None:
    pat = live_clinic.pat
    start = (timezone.localtime() + timedelta(days=1)).replace(
        hour=14, minute=30, second=0, microsecond=0
    )
    session_make(live_clinic, start=start)
    schedule_create(
        acting_user=live_clinic.users["ada"],
        patient=pat,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
    )
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(page, "pat", PASSWORD)
    expect(page.get_by_role("heading", name=f"Hello, {pat.given_name}")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"

    # The switch: a button naming the language in that language, reached from the keyboard.
    switch = page.get_by_role("button", name="Español")
    switch.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Hola, {pat.given_name}")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    assert LanguagePreference.objects.get(patient=pat).language == "es"
    main = page.locator("main")
    expect(main).to_contain_text("Sus próximas sesiones")
    expect(main).to_contain_text("Antes de venir")
    expect(main).to_contain_text("No coma nada después de las 08:30")  # IV: 6 h before 14:30
    expect(main).to_contain_text(", 14:30")  # 24-hour time beside the Spanish date
    expect(main).not_to_contain_text("Your next sessions")
    expect(page.get_by_role("button", name="English")).to_be_visible()
    _look(browser, "portal-es-home")

    page.get_by_role("button", name="Completar el GAD-7").click()
    expect(page.get_by_role("heading", name="Su cuestionario")).to_be_visible()
    official = SPANISH["gad7"]
    expect(page.locator("main")).to_contain_text(official.preamble)
    for text in official.items.values():
        expect(page.get_by_role("group", name=text)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Más de la mitad de los días")
    for link_id, weight in {"1": 1, "2": 2, "3": 1, "4": 0, "5": 1, "6": 0, "7": 1}.items():
        page.locator(f"input[name='gad7-{link_id}'][value='{weight}']").check()
    _look(browser, "portal-es-gad7")
    page.get_by_role("button", name="Enviar respuestas").click()
    expect(page.get_by_role("heading", name="Gracias")).to_be_visible()
    assert Administration.objects.get(patient=pat, instrument="gad7").total == 6

    page.get_by_role("link", name="Ver mis puntuaciones").click()
    expect(page.locator("main")).to_contain_text("Su puntuación más reciente: 6 (leve)")
    _look(browser, "portal-es-scores")

    # Sign out: the sign-in page stays Spanish (the cookie); sign in again: still Spanish.
    page.locator(f"{ACCOUNT_MENU} > summary").click()
    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible(timeout=TIMEOUT_MS)
    assert page.locator("html").get_attribute("lang") == "es"
    _look(browser, "portal-es-sign-in")
    page.locator("input[name='auth-username']").fill("pat")
    page.locator("input[name='auth-password']").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("heading", name=f"Hola, {pat.given_name}")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"

    # The public site in the same language: the home page, a translated page, the self-screen.
    page.goto("/clinic/")
    expect(page.get_by_role("heading", name="Visítenos y contáctenos")).to_be_visible()
    _look(browser, "site-es-home")
    page.goto("/clinic/ocd/")
    expect(page.get_by_role("heading", name="Trastorno obsesivo-compulsivo (TOC)")).to_be_visible()
    _look(browser, "site-es-page")
    page.goto("/clinic/self-screen/")
    page.get_by_role("button", name="Empezar").click()
    expect(page.locator("main")).to_contain_text(SPANISH["phq9"].items["9"])
    _look(browser, "site-es-self-screen")
    page.goto("/clinic/what-a-session-is-like/")
    expect(page.get_by_role("heading", name="Cómo es una sesión")).to_be_visible()
    _look(browser, "site-es-session-page")

    # The account pages in the portal layout: the optional sign-in code, its first step.
    page.goto("/account/two_factor/")
    expect(page.get_by_role("heading", name="Seguridad")).to_be_visible()
    _look(browser, "portal-es-security")
    page.goto("/account/two_factor/setup/")
    expect(
        page.get_by_role("heading", name="Configurar la verificación en dos pasos")
    ).to_be_visible()
    _look(browser, "portal-es-two-factor-setup")
    page.goto("/account/password/change/")
    _look(browser, "portal-es-password-change")

    # Signed out: password reset in Spanish.
    page.locator(f"{ACCOUNT_MENU} > summary").click()
    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible(timeout=TIMEOUT_MS)
    page.goto("/account/password/reset/")
    expect(page.get_by_role("heading", name="¿Olvidó su contraseña?")).to_be_visible()
    _look(browser, "site-es-password-reset")
    browser.problems.assert_none()
