"""In headless Chromium: a patient at a phone's width (390 px) sees the unread badge, reads a
staff message and replies with a PDF; an urgent message shows the crisis notice at once; a
nurse works the inbox at 1366 and 820 px (no horizontal scroll). axe finds nothing serious;
screenshots are written for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.messaging.models import Attachment, Message
from ketaclinic.messaging.tests.helpers import PDF_BYTES, staff_reply, thread_of
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import (
    Browser,
    axe_report,
    axe_violations,
    screenshots,
    session_given,
)

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


def _look(browser: Browser, name: str, widths: tuple[int, ...]) -> None:
    page = browser.page
    violations = axe_violations(page)
    assert violations == [], axe_report(name, violations)
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{name} scrolls sideways at {width} px"
    screenshots(page, name, widths)


def test_patient_reads_a_staff_message_and_replies_with_a_file(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    c = live_clinic
    thread = thread_of(c, subject="Parking on my session day", body="Where can my partner park?")
    staff_reply(
        c,
        thread,
        body="There is free parking behind the building, bays 1 to 6. "
        "Your partner can wait in the lounge.",
    )
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 900})
    session_given(page, live_server.url, c.users["pat"])
    page.goto("/portal/")
    tab = page.get_by_role("navigation", name="Your pages").get_by_role("link", name="Messages")
    expect(tab).to_contain_text("1")
    tab.click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
    _look(browser, "portal-messages", (390,))
    page.get_by_role("link", name="Parking on my session day").click()
    expect(page.locator("main")).to_contain_text("bays 1 to 6")
    page.get_by_label("Your message").fill("Thank you! My referral letter is attached.")
    letter: FilePayload = {
        "name": "referral letter.pdf",
        "mimeType": "application/pdf",
        "buffer": PDF_BYTES,
    }
    page.get_by_label("Attach a file (optional)").set_input_files(files=[letter])
    _look(browser, "portal-message-thread-reply", (390,))
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Your reply was sent.")
    expect(page.get_by_role("link", name="referral letter.pdf")).to_be_visible()
    expect(tab).not_to_contain_text("1")
    _look(browser, "portal-message-thread", (390,))
    assert Message.objects.filter(thread=thread, from_patient=True).count() == 2
    assert Attachment.objects.get().filename == "referral letter.pdf"

    # An urgent message: the crisis notice at once.
    page.goto("/portal/messages/new/")
    page.get_by_label("What is it about?").fill("Since the last infusion")
    page.get_by_label("Your message").fill("Some nights I want to die.")
    _look(browser, "portal-message-new", (390,))
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="If you need help now")).to_be_visible()
    expect(page.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(page.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    _look(browser, "portal-message-urgent", (390,))
    browser.problems.assert_none()


def test_nurse_works_the_inbox_at_1366_and_820(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    c = live_clinic
    thread_of(c, subject="Parking on my session day")
    letter = thread_of(c, subject="A letter for my employer")
    thread_of(c, who="quinn", subject="Since the last infusion", body="I can't breathe at night")
    page = browser.page
    page.set_viewport_size({"width": 1366, "height": 900})
    session_given(page, live_server.url, c.users["ben"])
    page.goto("/messages/")
    rows = page.locator("table.msg-inbox tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Urgent")
    _look(browser, "staff-messages-inbox", (1366, 820))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="A letter for my employer").click()
    page.get_by_label("Assign to").select_option(label="ben (Infusion nurse)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned to")
    page.get_by_label("Your message").fill("We can write it this week. Which days?")
    _look(browser, "staff-message-thread", (1366, 820))
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("main")).to_contain_text("We can write it this week.")
    page.goto("/messages/?show=mine")
    expect(page.locator("table.msg-inbox tbody tr")).to_have_count(1)
    assert Message.objects.filter(thread=letter, from_patient=False).count() == 1

    # The nurse writes first to Pat, from Pat's messages.
    page.goto(f"/messages/patients/{c.pat.pk}/")
    page.get_by_role("button", name=f"Write to {c.pat.given_name}").click()
    page.get_by_label("Subject").fill("Your home blood pressure readings")
    page.get_by_label("Message to the patient").fill("Please bring them on Friday.")
    _look(browser, "staff-message-new", (1366, 820))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Message sent")
    expect(page.locator("main")).to_contain_text("Please bring them on Friday.")
    browser.problems.assert_none()
