"""In headless Chromium at a phone's width (390 px): a patient accepts the invitation, chooses a
password, lands in the portal, confirms a ride home for tomorrow's session, answers a due
GAD-7 and sees the score; axe finds nothing serious on any page; screenshots at 390 and 820 px.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.portal.models import RideConfirmation
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
    sign_out,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

WIDTHS = (*PATIENT_WIDTHS, 820)
PASSWORD = "synthetic-portal-passphrase-19"


def _look(browser: Browser, name: str) -> None:
    violations = axe_violations(browser.page)
    assert violations == [], axe_report(name, violations)
    screenshots(browser.page, name, WIDTHS)
    browser.page.set_viewport_size({"width": 390, "height": 900})


def test_patient_accepts_invitation_confirms_ride_and_answers_gad7(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    robin = make_patient(given_name="Robin", family_name="Invitee", email="robin@example.org")
    start = (timezone.localtime() + timedelta(days=1)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    session = session_make(live_clinic, start=start, patient=robin)
    schedule_create(
        acting_user=live_clinic.users["ada"],
        patient=robin,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
    )
    issued = invitation_send(
        acting_user=live_clinic.users["cleo"],
        patient=robin,
        link_base=f"{live_server.url}/portal/welcome/",
    )
    assert len(mail.outbox) == 1
    link = f"/portal/welcome/{issued.uidb64}/{issued.token}/"
    assert link in str(mail.outbox[0].body)

    page = browser.page
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert issued.token not in page.url  # moved out of the address bar
    expect(page.locator("main")).to_contain_text("robin@example.org")
    _look(browser, "portal-welcome")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Save my password").click()

    expect(page.get_by_role("heading", name="Hello, Robin")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Do not eat after 03:30")  # IV protocol: 6 h before 09:30
    expect(main).to_contain_text("after 07:30")  # clear fluids until 2 h before
    expect(main).to_contain_text("Do not drive")
    expect(main).not_to_contain_text(robin.mrn)
    _look(browser, "portal-home")

    page.get_by_role("button", name="Confirm I have a ride home").click()
    expect(page.get_by_role("heading", name="Your ride home")).to_be_visible()
    page.get_by_label("Who is taking you home? (optional)").fill("Sam Invitee")
    page.get_by_label("Someone will take me home").check()
    _look(browser, "portal-ride")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").filter(has_text="Ride home confirmed")).to_be_visible()
    assert RideConfirmation.objects.get(session=session).escort_name == "Sam Invitee"

    page.get_by_role("button", name="Fill in the GAD-7").click()
    expect(page.get_by_role("heading", name="Your questionnaire")).to_be_visible()
    for link_id, weight in {"1": 1, "2": 2, "3": 1, "4": 0, "5": 1, "6": 0, "7": 1}.items():
        page.locator(f"input[name='gad7-{link_id}'][value='{weight}']").check()
    _look(browser, "portal-gad7")
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    administration = Administration.objects.get(patient=robin, instrument="gad7")
    assert administration.total == 6

    page.get_by_role("link", name="See my scores").click()
    expect(page.locator("main")).to_contain_text("Your latest score: 6 (mild)")
    _look(browser, "portal-scores")

    page.get_by_role("link", name="My details").click()
    expect(page.get_by_label("Phone", exact=True)).to_be_visible()
    _look(browser, "portal-contact")

    page.locator(".kc-account summary").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    expect(page.locator("body")).to_have_class("portal")  # the patient's layout, not staff's
    _look(browser, "portal-password")

    sign_out(page)
    browser.problems.assert_none()


def test_the_nurse_sees_the_ride_on_the_check_in_step(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    session = session_make(live_clinic)
    RideConfirmation.objects.create(
        session=session,
        patient=live_clinic.pat,
        escort_name="Sam Example",
        confirmed_by=live_clinic.users["pat"],
    )
    page = browser.page
    harness.session_given(page, str(live_server), live_clinic.users["ben"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/infusions/sessions/{session.pk}/")
    expect(page.locator(".ride-home")).to_contain_text(
        "Ride home confirmed by the patient (Sam Example)"
    )
    screenshots(page, "chart-check-in-ride")

    # Intake invites a patient from the staff's patient page.
    robin = make_patient(given_name="Robin", family_name="Invitee", email="robin@example.org")
    page.context.clear_cookies()
    harness.session_given(page, str(live_server), live_clinic.users["cleo"])
    page.goto(f"/patients/{robin.pk}/")
    card = page.locator("article.portal-access")
    expect(card).to_contain_text("No portal account yet")
    screenshots(page, "patient-portal-card")
    card.get_by_role("button", name="Invite to the portal").click()
    expect(page.get_by_role("status").filter(has_text="Invitation sent")).to_be_visible()
    expect(page.locator("article.portal-access")).to_contain_text("not accepted yet")
    assert len(mail.outbox) == 1
    screenshots(page, "patient-portal-card-invited")
    browser.problems.assert_none()
