"""Issue 15's acceptance, in headless Chromium at a phone's width (390 px), once in English and
once in Spanish: a patient accepts the invitation, confirms a ride home, answers a due GAD-7,
reads a message from the care team and replies, and reads their care plan. The Spanish run
switches the language on the invitation page, before the password is chosen, and every page
after it must be Spanish. axe finds nothing serious; nothing scrolls sideways; screenshots for
a person to open (``var/screenshots/journey-<lang>-*.png``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.careplan.samples import plan_signed
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.messaging.models import Message
from ketaclinic.messaging.services.threads import thread_start
from ketaclinic.messaging.tests.helpers import staff_reply
from ketaclinic.portal.models import LanguagePreference, PatientInvitation, RideConfirmation
from ketaclinic.portal.services.invitations import invitation_send
from ketaclinic.scales.models import Administration, RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import Clinic, make_patient
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    PATIENT_WIDTHS,
    Browser,
    axe_report,
    axe_violations,
    screenshots,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

PASSWORD = "synthetic-journey-passphrase-23"

# What the patient reads and clicks, in each language (the catalogues' own words: a missing
# translation fails here, not silently in front of a patient).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "Welcome",
        "password": "Choose a password",
        "again": "Type it again",
        "save_password": "Save my password",
        "hello": "Hello, Robin",
        "ride_button": "Confirm I have a ride home",
        "ride_heading": "Your ride home",
        "escort": "Who is taking you home? (optional)",
        "escort_tick": "Someone will take me home",
        "confirm": "Confirm",
        "ride_done": "Ride home confirmed",
        "gad7_button": "Fill in the GAD-7",
        "questionnaire": "Your questionnaire",
        "send_answers": "Send answers",
        "thanks": "Thank you",
        "messages_tab": "Messages",
        "your_message": "Your message",
        "send_reply": "Send reply",
        "reply_sent": "Your reply was sent.",
        "care_plan_link": "Read my care plan",
        "care_plan_heading": "My care plan",
        "not_this_language": "Your next sessions",
    },
    "es": {
        "welcome": "Bienvenido/a",
        "password": "Elija una contraseña",
        "again": "Escríbala otra vez",
        "save_password": "Guardar mi contraseña",
        "hello": "Hola, Robin",
        "ride_button": "Confirmar que alguien me llevará a casa",
        "ride_heading": "Su regreso a casa",
        "escort": "¿Quién le llevará a casa? (opcional)",
        "escort_tick": "Alguien me llevará a casa",
        "confirm": "Confirmar",
        "ride_done": "confirm",
        "gad7_button": "Completar el GAD-7",
        "questionnaire": "Su cuestionario",
        "send_answers": "Enviar respuestas",
        "thanks": "Gracias",
        "messages_tab": "Mensajes",
        "your_message": "Su mensaje",
        "send_reply": "Enviar respuesta",
        "reply_sent": "Su respuesta se envió.",
        "care_plan_link": "Leer mi plan de cuidado",
        "care_plan_heading": "Mi plan de cuidado",
        "not_this_language": "Your next sessions",
    },
}


def _look(browser: Browser, name: str) -> None:
    page = browser.page
    violations = axe_violations(page)
    assert violations == [], axe_report(name, violations)
    screenshots(page, name, PATIENT_WIDTHS)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow} px of horizontal scroll at 390 px"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_patient_joins_confirms_a_ride_answers_replies_and_reads_the_plan(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer, lang: str
) -> None:
    words = WORDS[lang]
    c = live_clinic
    robin = make_patient(given_name="Robin", family_name="Journey", email="robin@example.org")
    start = (timezone.localtime() + timedelta(days=1)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    session = session_make(c, start=start, patient=robin)
    schedule_create(
        acting_user=c.users["ada"],
        patient=robin,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
    )
    plan_signed(clinician=c.users["ada"], patient=robin)
    issued = invitation_send(
        acting_user=c.users["cleo"],
        patient=robin,
        link_base=f"{live_server.url}/portal/welcome/",
    )
    link = f"/portal/welcome/{issued.uidb64}/{issued.token}/"
    assert any(link in str(m.body) for m in mail.outbox)

    page = browser.page
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(link)
    if lang == "es":
        page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", name=words["welcome"])).to_be_visible()
    assert page.locator("html").get_attribute("lang") == lang
    _look(browser, f"journey-{lang}-welcome")
    page.get_by_label(words["password"]).fill(PASSWORD)
    page.get_by_label(words["again"]).fill(PASSWORD)
    page.get_by_role("button", name=words["save_password"]).click()

    expect(page.get_by_role("heading", name=words["hello"])).to_be_visible()
    # Robin asked about parking (by phone, written up as his message) and the nurse answered.
    robin_user = PatientInvitation.objects.get(patient=robin).user
    thread = thread_start(
        acting_user=robin_user,
        subject="Parking",
        body="Where can my partner park?",
        inbox_link=f"{live_server.url}/messages/",
    ).thread
    staff_reply(c, thread, body="There is free parking behind the building, bays 1 to 6.")
    page.reload()
    main = page.locator("main")
    expect(main).not_to_contain_text(robin.mrn)
    if lang != "en":
        expect(main).not_to_contain_text(words["not_this_language"])
        assert LanguagePreference.objects.get(patient=robin).language == lang
    _look(browser, f"journey-{lang}-home")

    # The ride home.
    page.get_by_role("button", name=words["ride_button"]).click()
    expect(page.get_by_role("heading", name=words["ride_heading"])).to_be_visible()
    page.get_by_label(words["escort"]).fill("Sam Journey")
    page.get_by_label(words["escort_tick"]).check()
    _look(browser, f"journey-{lang}-ride")
    page.get_by_role("button", name=words["confirm"], exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Sam Journey")).to_be_visible()
    assert RideConfirmation.objects.get(session=session).escort_name == "Sam Journey"

    # The due GAD-7.
    page.get_by_role("button", name=words["gad7_button"]).click()
    expect(page.get_by_role("heading", name=words["questionnaire"])).to_be_visible()
    for link_id, weight in {"1": 1, "2": 2, "3": 1, "4": 0, "5": 1, "6": 0, "7": 1}.items():
        page.locator(f"input[name='gad7-{link_id}'][value='{weight}']").check()
    _look(browser, f"journey-{lang}-gad7")
    page.get_by_role("button", name=words["send_answers"]).click()
    expect(page.get_by_role("heading", name=words["thanks"])).to_be_visible()
    assert Administration.objects.get(patient=robin, instrument="gad7").total == 6

    # The care team's message, and a reply.
    tab = page.locator("nav.portal-tabs").get_by_role("link", name=words["messages_tab"])
    expect(tab).to_contain_text("1")  # one unread
    tab.click()
    page.get_by_role("link", name="Parking").click()
    expect(page.locator("main")).to_contain_text("bays 1 to 6")
    page.get_by_label(words["your_message"]).fill("Thank you, see you tomorrow.")
    _look(browser, f"journey-{lang}-message")
    page.get_by_role("button", name=words["send_reply"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["reply_sent"])
    assert Message.objects.filter(thread=thread, from_patient=True).count() == 2

    # The signed care plan.
    page.goto("/portal/")
    page.get_by_role("button", name=words["care_plan_link"]).click()  # the home page's card
    expect(page.get_by_role("heading", name=words["care_plan_heading"], level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Feel calm enough to sleep")  # their words
    expect(page.locator("main")).not_to_contain_text(robin.mrn)
    _look(browser, f"journey-{lang}-care-plan")
    browser.problems.assert_none()
