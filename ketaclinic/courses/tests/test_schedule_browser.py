"""Scheduling in real headless Chromium, as Nurse Ben: an induction series booked in one step
(the protocol's spacing proposed, a day without a prescriber skipped), a single booking on a
day without a prescriber refused, a session moved and another cancelled with a reason, a
no-show recorded for today's session, and the free chairs of a day. Screenshots at 1366 and
820 px of every page added or changed."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ketaclinic.courses import services
from ketaclinic.courses.models import Course, PrescriberPresence, Protocol, SessionChange
from ketaclinic.courses.tests.conftest import local_at, monday_ahead
from ketaclinic.courses.tests.conftest import shipped_rows_ensure as protocols_ensure
from ketaclinic.eligibility.tests.eligibility_helpers import consent_all, decision_make
from ketaclinic.eligibility.tests.eligibility_helpers import shipped_rows_ensure as rules_ensure
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots, sign_in

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

WEEKDAYS = [{"weekday": d, "opens": "08:00", "closes": "18:00"} for d in range(5)]


# The elements of <main> that reach past its right edge (the navigation is the layout's).
WIDER_THAN_MAIN = """(() => {
  const main = document.querySelector('main');
  const edge = main.getBoundingClientRect().right + 1;
  return [...main.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > edge && !el.closest('.table-scroll'))
    .filter((el) => getComputedStyle(el).position !== 'absolute')
    .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)
    .slice(0, 5);
})()"""


def look(page: Page, name: str, where: str) -> None:
    """Screenshots, axe, and no horizontal scroll of the page's own content at 820 px."""
    screenshots(page, name)
    violations = axe_violations(page)
    assert violations == [], axe_report(where, violations)
    page.set_viewport_size({"width": 820, "height": 900})
    wide = page.evaluate(WIDER_THAN_MAIN)
    page.set_viewport_size({"width": 1366, "height": 900})
    assert wide == [], f"{where} scrolls sideways at 820 px: {wide}"


def test_a_nurse_books_a_series_moves_cancels_and_records_a_no_show(
    live_clinic: Clinic, browser: Browser
) -> None:
    rules_ensure()
    protocols_ensure()
    clinic, pat = live_clinic, live_clinic.pat
    decision_make(clinic)
    consent_all(clinic)
    dana, ada = clinic.users["dana"], clinic.users["ada"]
    services.chair_create(acting_user=dana, name="Chair W", room="Room 1", opening_hours=WEEKDAYS)
    course = services.course_start(
        acting_user=ada,
        patient=pat,
        protocol_id=Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True).pk,
    )
    monday = monday_ahead()
    no_prescriber = monday + timedelta(days=9)  # the second Wednesday
    for offset in range(0, 22):
        day = monday + timedelta(days=offset)
        if day.weekday() < 5 and day != no_prescriber:
            PrescriberPresence.objects.create(
                clinician=ada, date=day, from_time=time(8), to_time=time(17), recorded_by=dana
            )

    page = browser.page
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "ben", PASSWORD, clinic.totp.get("ben"))
    page.goto(f"/courses/patients/{pat.pk}/")
    look(page, "courses-patient", "the patient's courses page")

    # A single booking on a day without a prescriber on site is refused at once.
    booking = page.get_by_role("region", name="Book a session")
    booking.get_by_label("Start").fill(f"{no_prescriber:%Y-%m-%d}T09:00")
    booking.get_by_label("Chair").select_option(label="Chair W (Room 1)")
    booking.get_by_role("button", name="Book the session").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"no prescriber is marked on site on {no_prescriber:%a %Y-%m-%d}"
    )
    assert not Session.objects.exists()

    # The series: six sessions proposed from Monday 09:00, the Wednesday without a prescriber
    # skipped (Thursday instead), booked in one step.
    page.get_by_role("button", name="Book a series of sessions").click()
    page.get_by_role("textbox", name="First session").fill(f"{monday:%Y-%m-%d}T09:00")
    page.get_by_label("Chair").select_option(label="Chair W (Room 1)")
    page.get_by_role("button", name="Propose the dates").click()
    proposed = page.get_by_role("region", name="Proposed sessions")
    expect(proposed.get_by_role("checkbox")).to_have_count(6)
    page.get_by_text("Days skipped").click()
    expect(proposed).to_contain_text("no prescriber is marked on site")
    look(page, "courses-series", "the series page")
    proposed.get_by_role("button", name="Book 6 sessions").click()
    expect(page.get_by_role("status")).to_contain_text("6 sessions booked in Chair W")
    starts = [s.start for s in Session.objects.filter(course=course).order_by("start")]
    days = [timezone.localdate(s) for s in starts]  # the clinic's dates, not UTC's
    # Monday, Wednesday, Friday, Monday, then Thursday for the second Wednesday, Monday.
    assert [(day - monday).days for day in days] == [0, 2, 4, 7, 10, 14]
    assert no_prescriber not in days

    # Moving the first session to Tuesday would leave 23 h before Wednesday's: refused with
    # the reason. An hour earlier on Monday fits. Then the second is cancelled.
    first = Session.objects.filter(course=course).order_by("start").first()
    assert first is not None
    page.locator(f'tr[data-session="{first.pk}"]').get_by_role(
        "link", name="Move or cancel"
    ).click()
    expect(page.get_by_role("heading", name="Move", exact=True)).to_be_visible()
    look(page, "courses-session", "a booked session's page")
    move = page.get_by_role("region", name="Move")
    move.get_by_label("New start").fill(f"{monday + timedelta(days=1):%Y-%m-%d}T10:00")
    move.get_by_label("Reason").fill("Patient asked for Tuesday")
    move.get_by_role("button", name="Move the session").click()
    expect(page.get_by_role("alert")).to_contain_text("needs at least 48 h between sessions")
    first.refresh_from_db()
    assert first.start == local_at(monday, 9)
    move = page.get_by_role("region", name="Move")
    move.get_by_label("New start").fill(f"{monday:%Y-%m-%d}T08:00")
    move.get_by_label("Reason").fill("Patient asked for an earlier start")
    move.get_by_role("button", name="Move the session").click()
    expect(page.get_by_role("status")).to_contain_text("Session moved to")
    first.refresh_from_db()
    assert first.start == local_at(monday, 8)

    second = Session.objects.filter(course=course, status="scheduled").order_by("start")[1]
    page.goto(f"/courses/sessions/{second.pk}/")
    cancel = page.get_by_role("region", name="Cancel")
    cancel.get_by_label("Reason").fill("Unwell")
    cancel.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("status")).to_contain_text("cancelled; the chair is free again")
    expect(page.get_by_role("cell", name="Unwell")).to_be_visible()
    second.refresh_from_db()
    assert second.status == "cancelled"

    # Today's session of another course: the patient did not come.
    quinns = Course.objects.create(patient=clinic.quinn, protocol=course.protocol, started_by=ada)
    today = Session.objects.create(
        course=quinns,
        chair=first.chair,
        phase="induction",
        start=timezone.now() - timedelta(minutes=20),
        chair_until=timezone.now() + timedelta(minutes=80),
        created_by=clinic.users["ben"],
    )
    page.goto(f"/courses/sessions/{today.pk}/")
    no_show = page.get_by_role("form", name="Did not attend")
    no_show.get_by_label("Reason").fill("No answer by phone")
    no_show.get_by_role("button", name="Record as not attended").click()
    expect(page.get_by_role("status")).to_contain_text("recorded as not attended")
    expect(page.get_by_role("cell", name="Did not attend")).to_be_visible()
    kinds = sorted(SessionChange.objects.values_list("kind", flat=True))
    assert kinds == ["cancelled", "no_show", "rescheduled"]

    # The free chairs of the Monday.
    page.goto(f"/courses/schedule/day/{monday.isoformat()}/free/")
    expect(page.get_by_role("heading", name="Chair W")).to_be_visible()
    look(page, "courses-free-slots", "the free chairs page")
    page.goto(f"/courses/schedule/day/{monday.isoformat()}/")
    look(page, "courses-schedule-day", "the day's schedule")
    # The two refusals answered 409 on purpose (the page shows the reasons); Chromium logs
    # each as a failed load. Anything else must not have happened.
    problems = browser.problems
    refused = [e for e in problems.console_errors if "status of 409 (Conflict)" in e]
    assert len(refused) == 2, problems.console_errors
    problems.console_errors = [e for e in problems.console_errors if e not in refused]
    problems.assert_none()
