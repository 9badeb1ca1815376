"""The patient's single-use pages, submitted in real headless Chromium: the questionnaire link
on their phone, the kiosk session on the clinic's tablet and the consent link (issue 12, items
1 and 2).

Django's test client sends no Origin header and skips the CSRF check, so only a real browser
shows what a patient gets when they press the button. These pages used to set
``<meta name="referrer" content="no-referrer">``: Chromium then sends ``Origin: null`` with the
form, Django's CSRF check refuses it, and the patient got a 403 instead of "Thank you".

When the CSRF check does refuse a post (here: the browser lost its CSRF cookie), the patient
sees the clinic's own page, styled, saying what to do, with nothing about them on it.

Screenshots at 390 px go to var/screenshots/ (``patient-link-*``) for a person to look at.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentSignature, SignatureMethod
from ketaclinic.eligibility.tests.eligibility_helpers import current_documents, shipped_rows_ensure
from ketaclinic.scales import links
from ketaclinic.scales.models import Administration, PatientLink
from ketaclinic.testing import Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import PATIENT_WIDTHS, Browser, screenshots

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

GAD7_ANCHORS = ["More than half the days"] * 4 + ["Several days"] * 3  # 4 x 2 + 3 x 1 = 11


def gad7_answered(page: Page) -> None:
    """Tick one answer on each of the GAD-7's seven items, as the patient does."""
    items = page.locator("section.instrument", has=page.locator("#gad7-title")).locator(
        "fieldset.item"
    )
    expect(items).to_have_count(len(GAD7_ANCHORS))
    for index, anchor in enumerate(GAD7_ANCHORS):
        items.nth(index).get_by_label(anchor, exact=True).check()


def signature_drawn(page: Page) -> None:
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(
            box["x"] + 20 + step * 20, box["y"] + box["height"] * (0.3 + 0.05 * (step % 3))
        )
    page.mouse.up()


def _forget_the_expected_403(browser: Browser) -> None:
    """Chromium logs the refused post ("the server responded with a status of 403") as a console
    error, sometimes only after the page has been drawn: that one is expected, nothing else."""
    browser.page.wait_for_load_state("load")
    errors = browser.problems.console_errors
    expect_403 = [e for e in errors if "status of 403" in e]
    assert len(expect_403) <= 1 and len(errors) == len(expect_403), errors
    errors.clear()


def test_the_patient_sends_a_questionnaire_link_from_their_phone(
    live_clinic: Clinic, browser: Browser
) -> None:
    issued = links.patient_link_create(
        acting_user=live_clinic.users["ben"], patient=live_clinic.pat, instrument_codes=["gad7"]
    )
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/scales/q/{issued.token}/")
    expect(page.get_by_role("heading", name="Your questionnaire")).to_be_visible()

    gad7_answered(page)
    page.get_by_role("button", name="Send answers").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your answers were sent to your care team.")
    screenshots(page, "patient-link-questionnaire-done", PATIENT_WIDTHS)
    stored = Administration.objects.get()
    assert (stored.patient_id, stored.instrument, stored.total) == (live_clinic.pat.pk, "gad7", 11)
    assert stored.mode == "patient_self"
    assert PatientLink.objects.get().used_at is not None
    browser.problems.assert_none()


def test_the_patient_sends_the_kiosk_questionnaire_on_the_clinic_tablet(
    live_clinic: Clinic, browser: Browser
) -> None:
    issued = links.kiosk_session_start(
        acting_user=live_clinic.users["ben"], patient=live_clinic.pat, instrument_codes=["gad7"]
    )
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/scales/q/{issued.token}/")
    expect(page.get_by_role("button", name="Full screen")).to_be_visible()

    gad7_answered(page)
    page.get_by_role("button", name="Send answers").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Please hand the tablet back to a member of staff.")).to_be_visible()
    screenshots(page, "patient-link-kiosk-done", PATIENT_WIDTHS)
    stored = Administration.objects.get()
    assert (stored.patient_id, stored.total, stored.mode) == (live_clinic.pat.pk, 11, "kiosk")
    browser.problems.assert_none()


def test_the_patient_signs_the_consent_link_from_their_phone(
    live_clinic: Clinic, browser: Browser
) -> None:
    shipped_rows_ensure()  # an earlier transactional test's flush removes the shipped documents
    issued = consent_services.consent_link_create(
        acting_user=live_clinic.users["ben"], patient=live_clinic.pat
    )
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/intake/sign/{issued.token}/")
    expect(page.get_by_role("heading", name="Your consent")).to_be_visible()

    page.get_by_label("I have read the document above").check()
    page.get_by_label("Your full name").fill("Pat Example")
    signature_drawn(page)
    page.get_by_role("button", name="Sign", exact=True).click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Your signature was saved.")).to_be_visible()
    screenshots(page, "patient-link-consent-done", PATIENT_WIDTHS)
    signatures = ConsentSignature.objects.order_by("document__code")
    assert [s.document for s in signatures] == current_documents()
    for signature in signatures:
        assert (signature.patient_id, signature.method) == (
            live_clinic.pat.pk,
            SignatureMethod.LINK,
        )
        assert signature.signed_name == "Pat Example"
        assert signature.signature_image.startswith(consent_services.PNG_PREFIX)
    browser.problems.assert_none()


def test_a_refused_post_shows_the_clinic_page_and_the_patient_can_start_again(
    live_clinic: Clinic, browser: Browser
) -> None:
    """The browser lost its CSRF cookie (cleared, or the page was open from an old session):
    the clinic's page says what to do, and its button opens the questionnaire again."""
    issued = links.patient_link_create(
        acting_user=live_clinic.users["ben"], patient=live_clinic.pat, instrument_codes=["gad7"]
    )
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/scales/q/{issued.token}/")
    gad7_answered(page)
    page.context.clear_cookies()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Send answers").click()
    assert posted.value.status == 403
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Your form was not sent")
    _forget_the_expected_403(browser)
    main = page.locator("main")
    expect(main).to_contain_text("Nothing was saved.")
    expect(main).to_contain_text("555-0100")  # the clinic's phone, to ask
    expect(main).not_to_contain_text("CSRF")
    html = page.content()
    assert issued.token not in html
    assert live_clinic.pat.family_name not in html
    assert page.get_by_role("navigation").count() == 0  # the bare patient layout
    # Styled by the vendored CSS: Pico's container centres and pads the main element.
    assert page.locator("main.container").evaluate("e => getComputedStyle(e).paddingLeft") != "0px"
    screenshots(page, "patient-link-csrf-refused", PATIENT_WIDTHS)
    violations = harness.axe_violations(page)
    assert violations == [], harness.axe_report("the refused-post page", violations)
    assert Administration.objects.count() == 0

    page.get_by_role("button", name="Open the form again").click()
    expect(page.get_by_role("heading", name="Your questionnaire")).to_be_visible()
    gad7_answered(page)
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert Administration.objects.get().total == 11
    browser.problems.assert_none()


def test_a_refused_staff_post_shows_the_clinic_page_in_the_staff_layout(
    live_clinic: Clinic, browser: Browser, live_server: LiveServer
) -> None:
    """Nurse Ben's CSRF cookie is gone (a new browser session, an old tab): the same page, with
    the staff navigation and the way back to the start."""
    nurse = live_clinic.client("ben")  # signed in, 2FA verified
    page = browser.page
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": nurse.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(f"/scales/patients/{live_clinic.pat.pk}/")
    expect(page.get_by_role("heading", name="Rating scales")).to_be_visible()
    page.context.clear_cookies(name=settings.CSRF_COOKIE_NAME)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Create link").click()
    assert posted.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Your form was not sent")
    _forget_the_expected_403(browser)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Go back to the page, reload it, and try again.")
    screenshots(page, "staff-csrf-refused")
    violations = harness.axe_violations(page)
    assert violations == [], harness.axe_report("the refused-post page (staff)", violations)
    assert PatientLink.objects.count() == 0
    page.get_by_role("button", name="Go to the start page").click()
    # The start page is the signed-in person's Today since the h13-today merge (one front door).
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    browser.problems.assert_none()
