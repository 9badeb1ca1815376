"""In headless Chromium: the patient chooses text messages and a later quiet time at a phone's
width (390 px), and Nurse Ben sees the patient's reminders and the ones that need a look
(1366 and 820 px); axe finds nothing serious; screenshots of each."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.reminders.models import Channel, Delivery, DeliveryStatus, Kind, ReminderPreference
from ketaclinic.testing import Clinic
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


def _clean(browser: Browser, name: str) -> None:
    violations = axe_violations(browser.page)
    assert violations == [], axe_report(name, violations)


def test_patient_sets_reminders_and_staff_see_them(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    page = browser.page
    harness.session_given(page, live_server.url, live_clinic.users["pat"])
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/portal/contact/")
    page.get_by_role("link", name="Reminders: how and when we remind you").click()
    expect(page.get_by_role("heading", name="Reminders")).to_be_visible()
    _clean(browser, "portal reminders")
    screenshots(page, "portal-reminders", PATIENT_WIDTHS)
    page.get_by_label("By e-mail").uncheck()
    page.get_by_label("By text message (SMS)").check()
    page.get_by_label("Quiet from").fill("22:30")
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your reminder settings are saved.")
    screenshots(page, "portal-reminders-saved", PATIENT_WIDTHS)
    preference = ReminderPreference.objects.get(patient=live_clinic.pat)
    assert preference.channels == [Channel.SMS]

    for n, status in enumerate(
        (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED)
    ):
        Delivery.objects.create(
            event_key=f"questionnaire:{n}:2026-12-01",
            channel=Channel.SMS,
            kind=Kind.QUESTIONNAIRE_DUE,
            patient=live_clinic.pat,
            status=status,
            error="HTTP 400" if status == DeliveryStatus.FAILED else "",
        )
    page.context.clear_cookies()
    harness.session_given(page, live_server.url, live_clinic.users["ben"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/patients/{live_clinic.pat.pk}/")
    page.get_by_role("link", name="Reminders sent").click()
    expect(page.get_by_role("heading", name="Reminders sent to Pat Example")).to_be_visible()
    expect(page.locator("main")).to_contain_text("text message; quiet hours 22:30\u201307:00")
    _clean(browser, "staff reminders")
    screenshots(page, "reminders-patient")
    page.get_by_role("link", name="Reminders that need a look (all patients)").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    _clean(browser, "attention")
    screenshots(page, "reminders-attention")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.set_viewport_size({"width": 820, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The nurse acts on each: the failed one is sent again (the address was corrected), the
    # unconfirmed one is taken off the list with a note (she phoned the patient).
    page.set_viewport_size({"width": 1366, "height": 900})
    failed = page.locator("tbody tr", has_text="HTTP 400")
    failed.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text("It will be sent again")
    expect(page.locator("tbody tr")).to_have_count(1)
    unconfirmed = page.locator("tbody tr", has_text="Unconfirmed")
    unconfirmed.get_by_role("button", name="Handled").click()  # no note: the browser asks
    expect(page.locator("tbody tr")).to_have_count(1)
    unconfirmed.get_by_label("What was done (takes it off the list)").fill(
        "Phoned; she had the text"
    )
    unconfirmed.get_by_role("button", name="Handled").click()
    expect(page.get_by_role("status")).to_contain_text("Taken off the list")
    expect(page.locator("tbody")).to_contain_text("None.")
    _clean(browser, "attention, after")
    screenshots(page, "reminders-attention-after")
    rows = {d.status: d for d in Delivery.objects.filter(patient=live_clinic.pat)}
    assert rows[DeliveryStatus.RETRY].resend_by == live_clinic.users["ben"]
    assert rows[DeliveryStatus.HANDLED].handled_note == "Phoned; she had the text"
    page.goto(f"/reminders/patients/{live_clinic.pat.pk}/")
    expect(page.locator("main")).to_contain_text("Phoned; she had the text")
    expect(page.locator("main")).to_contain_text("sent again at")
    screenshots(page, "reminders-patient-after")
    browser.problems.assert_none()
