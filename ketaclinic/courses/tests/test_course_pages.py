"""The courses pages: start a course, change it, order a dose, book a session, add a chair.

Each write goes through the same service as the API: the tests check what each page stores
(rows and audit events) for the right role, and that a refusal, a wrong role or bad input
stores nothing and says why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses import services
from ketaclinic.courses.models import Chair, Course, CourseStatus, DoseOrder, Protocol
from ketaclinic.courses.tests.conftest import course_for, local_at, monday_ahead
from ketaclinic.eligibility.tests.eligibility_helpers import (
    consent_all,
    decision_make,
)
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.testing import Clinic

STAFF = ("dana", "ada", "ben", "cleo")


def _writes() -> list[tuple[str, str, str]]:
    """Every audit event but reads: what a page changed."""
    return list(
        AuditEvent.objects.exclude(action="R")
        .order_by("seq")
        .values_list("action", "object_type", "object_id")
    )


def _client(clinic: Clinic, user: str | Client) -> Client:
    return clinic.client(user) if isinstance(user, str) else user


def _page(clinic: Clinic, user: str | Client) -> str:
    response = _client(clinic, user).get(f"/courses/patients/{clinic.pat.pk}/")
    assert response.status_code == 200
    return response.content.decode()


# -- starting a course -------------------------------------------------------------------------


def _start(clinic: Clinic, user: str | Client, protocol: Any) -> Any:
    return _client(clinic, user).post(
        f"/courses/patients/{clinic.pat.pk}/start/", {"protocol": protocol}
    )


def test_a_clinician_starts_a_course_once_intake_has_cleared_the_patient(
    clinic: Clinic, iv_protocol: Protocol
) -> None:
    page = _page(clinic, "ada")
    assert "Start a course" in page and f'value="{iv_protocol.pk}"' in page

    refused = _start(clinic, "ada", iv_protocol.pk)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "The course was not started" in page
    assert "no eligible decision recorded" in page and "no current consent: not signed: " in page
    assert not Course.objects.exists()

    decision_make(clinic)
    without_consent = _start(clinic, "ada", iv_protocol.pk)
    assert without_consent.status_code == 409
    assert "no eligible decision" not in without_consent.content.decode()
    assert "no current consent: not signed: " in without_consent.content.decode()
    assert not Course.objects.exists()

    consent_all(clinic)
    before = _writes()
    ada = clinic.client("ada")  # one browser session: the message after the redirect
    started = _start(clinic, ada, iv_protocol.pk)
    assert started.status_code == 302
    assert started["Location"] == f"/courses/patients/{clinic.pat.pk}/"
    course = Course.objects.get()
    assert course.patient == clinic.pat and course.protocol == iv_protocol
    assert course.status == "active" and course.phase == "induction"
    assert course.started_by == clinic.users["ada"]
    assert _writes()[len(before) :] == [("C", "Course", str(course.pk))]

    page = _page(clinic, ada)
    assert "Course started on IV racemic ketamine" in page
    # One open course at a time: the start form is gone, and a forged start is refused.
    assert "Start a course" not in page
    again = _start(clinic, "ada", iv_protocol.pk)
    assert again.status_code == 409
    assert "the patient already has an open course; end it first" in again.content.decode()
    assert Course.objects.count() == 1


@pytest.mark.parametrize("username", ["dana", "ben", "cleo", "pat"])
def test_only_a_clinician_starts_a_course(
    clinic: Clinic, iv_protocol: Protocol, cleared: None, username: str
) -> None:
    if username == "pat":  # the staff's course page is not the patient's: 404 (the portal is)
        assert (
            _client(clinic, username).get(f"/courses/patients/{clinic.pat.pk}/").status_code == 404
        )
    else:
        assert "Start a course" not in _page(clinic, username)
    assert _start(clinic, username, iv_protocol.pk).status_code == 403
    assert not Course.objects.exists()


@pytest.mark.parametrize("protocol", ["", "not-a-number", "999999"])
def test_a_start_without_a_valid_protocol_says_so_and_stores_nothing(
    clinic: Clinic, iv_protocol: Protocol, cleared: None, protocol: str
) -> None:
    response = _start(clinic, "ada", protocol)
    assert response.status_code == 422
    assert 'id="id_protocol_errors"' in response.content.decode()
    assert not Course.objects.exists()


def test_an_old_protocol_version_cannot_be_chosen(
    clinic: Clinic, iv_protocol: Protocol, cleared: None
) -> None:
    services.protocol_new_version(
        acting_user=clinic.users["dana"],
        base=iv_protocol,
        definition_json=iv_protocol.definition_json,
        source="Medical director, test",
    )
    assert f'value="{iv_protocol.pk}"' not in _page(clinic, "ada")
    assert _start(clinic, "ada", iv_protocol.pk).status_code == 422
    assert not Course.objects.exists()


# -- changing a course -------------------------------------------------------------------------


def _change(
    clinic: Clinic, course: Course, change: str, reason: str, user: str | Client = "ada"
) -> Any:
    return _client(clinic, user).post(
        f"/courses/{course.pk}/change/", {"change": change, "reason": reason}
    )


def test_a_clinician_pauses_resumes_moves_the_phase_and_ends_with_a_reason(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    page = _page(clinic, "ada")
    for label in ("Pause", "Move to the maintenance phase", "End the course"):
        assert f">{label}</button>" in page
    assert ">Resume</button>" not in page

    before = _writes()
    ada = clinic.client("ada")
    paused = _change(clinic, course, "pause", "Holiday for two weeks", user=ada)
    assert paused.status_code == 302
    course.refresh_from_db()
    assert course.status == "paused" and course.status_reason == "Holiday for two weeks"
    assert _writes()[len(before) :] == [("U", "Course", str(course.pk))]
    page = _page(clinic, ada)
    assert "The course is now paused." in page and ">Resume</button>" in page
    assert ">Pause</button>" not in page
    # A paused course is not booked from the page.
    assert "Book a session" not in page

    assert _change(clinic, course, "resume", "Back from holiday").status_code == 302
    course.refresh_from_db()
    assert course.status == "active"

    assert _change(clinic, course, "maintenance", "Response after six sessions").status_code == 302
    course.refresh_from_db()
    assert course.phase == "maintenance" and course.status_reason == "Response after six sessions"
    assert ">Move to the induction phase</button>" in _page(clinic, "ada")

    session = services.session_book(
        acting_user=clinic.users["ben"],
        course=course,
        chair_name=chair.name,
        start=local_at(monday_ahead(), 9),
    )
    assert _change(clinic, course, "end", "Remission").status_code == 302
    course.refresh_from_db()
    assert course.status == "ended" and course.ended_at is not None
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    updates = [w for w in _writes()[len(before) :] if w[1] == "Course"]
    assert updates == [("U", "Course", str(course.pk))] * 4
    # An ended course has no controls; a new one can be started.
    page = _page(clinic, "ada")
    assert "Change the course" not in page and "Start a course" in page


def test_a_change_the_service_refuses_shows_its_reason_and_changes_nothing(
    clinic: Clinic, course: Course
) -> None:
    before = _writes()
    resumed = _change(clinic, course, "resume", "Forged: the course is not paused")
    assert resumed.status_code == 409
    page = resumed.content.decode()
    assert "The course was not changed" in page
    assert "the course is active; it cannot become active" in page
    same_phase = _change(clinic, course, "induction", "Already there")
    assert same_phase.status_code == 409
    assert "the course is already in the induction phase" in same_phase.content.decode()
    course.refresh_from_db()
    assert course.status == "active" and course.status_reason == ""
    assert _writes() == before


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"change": "pause", "reason": "   "}, 'id="id_reason_errors"'),
        ({"change": "pause"}, 'id="id_reason_errors"'),
        ({"change": "booster", "reason": "x"}, "booster is not a change of a course."),
        ({"reason": "x"}, "Choose a change with one of the buttons."),
    ],
)
def test_a_change_without_a_reason_or_a_known_change_is_refused(
    clinic: Clinic, course: Course, body: dict[str, str], error: str
) -> None:
    before = _writes()
    response = clinic.client("ada").post(f"/courses/{course.pk}/change/", body)
    assert response.status_code == 422
    assert error in response.content.decode()
    course.refresh_from_db()
    assert course.status == "active" and course.phase == "induction"
    assert _writes() == before


@pytest.mark.parametrize("username", ["dana", "ben", "cleo", "pat"])
def test_only_a_clinician_changes_a_course(clinic: Clinic, course: Course, username: str) -> None:
    if username == "pat":  # the staff's course page is not the patient's: 404 (the portal is)
        assert (
            _client(clinic, username).get(f"/courses/patients/{clinic.pat.pk}/").status_code == 404
        )
    else:
        page = _page(clinic, username)
        assert "Change the course" not in page and "Order a dose adjustment" not in page
    assert _change(clinic, course, "end", "Forged", user=username).status_code == 403
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_another_patients_course_is_not_found_for_a_patient(clinic: Clinic, course: Course) -> None:
    assert clinic.client("quinn").get(f"/courses/patients/{clinic.pat.pk}/").status_code == 404
    url = f"/courses/{course.pk}/sessions/"
    assert clinic.client("ben").post(f"/courses/{Course().pk}/sessions/").status_code == 404
    assert clinic.client("quinn").post(url).status_code == 403


# -- dose orders -------------------------------------------------------------------------------


def _dose(clinic: Clinic, course: Course, body: dict[str, str], user: str = "ada") -> Any:
    return clinic.client(user).post(f"/courses/{course.pk}/dose-orders/", body)


def test_a_clinician_orders_a_dose_in_mg_per_kg_or_fixed_mg(clinic: Clinic, course: Course) -> None:
    before = _writes()
    rationale = "Partial response after 3 sessions; well tolerated."
    per_kg = _dose(clinic, course, {"amount": "0.75", "basis": "mg_per_kg", "rationale": rationale})
    assert per_kg.status_code == 302
    order = DoseOrder.objects.get()
    assert order.mg_per_kg is not None and str(order.mg_per_kg.normalize()) == "0.75"
    assert order.fixed_mg is None
    assert order.rationale == rationale and order.ordered_by == clinic.users["ada"]
    assert _writes()[len(before) :] == [("C", "DoseOrder", str(order.pk))]

    fixed = _dose(clinic, course, {"amount": "35", "basis": "fixed_mg", "rationale": "Cap."})
    assert fixed.status_code == 302
    latest = DoseOrder.objects.order_by("-pk").first()
    assert latest is not None and latest.fixed_mg == 35 and latest.mg_per_kg is None
    page = _page(clinic, "ada")
    assert "0.75 mg/kg by ada" in page and "35 mg by ada · Cap." in page


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "0.5", "basis": "mg_per_kg", "rationale": "  "}, "rationale", "required"),
        ({"amount": "", "basis": "mg_per_kg", "rationale": "x"}, "amount", "required"),
        ({"amount": "lots", "basis": "mg_per_kg", "rationale": "x"}, "amount", "Enter a number"),
        ({"amount": "0", "basis": "mg_per_kg", "rationale": "x"}, "amount", "above zero"),
        ({"amount": "-5", "basis": "fixed_mg", "rationale": "x"}, "amount", "above zero"),
        ({"amount": "0.12345", "basis": "mg_per_kg", "rationale": "x"}, "amount", "4 decimal"),
        ({"amount": "1", "basis": "per_lb", "rationale": "x"}, "basis", "valid choice"),
    ],
)
def test_a_bad_dose_order_shows_the_error_beside_its_field_and_stores_nothing(
    clinic: Clinic, course: Course, body: dict[str, str], field: str, message: str
) -> None:
    before = _writes()
    response = _dose(clinic, course, body)
    assert response.status_code == 422
    page = response.content.decode()
    errors = page.split(f'id="id_{field}_errors"', 1)
    assert len(errors) == 2, page
    assert message in errors[1].split("</ul>", 1)[0]
    assert not DoseOrder.objects.exists()
    assert _writes() == before


def test_an_ended_course_takes_no_dose_order(clinic: Clinic, course: Course) -> None:
    services.course_end(acting_user=clinic.users["ada"], course=course, reason="Remission")
    response = _dose(clinic, course, {"amount": "0.5", "basis": "mg_per_kg", "rationale": "x"})
    assert response.status_code == 409
    assert "the course has ended" in response.content.decode()
    assert not DoseOrder.objects.exists()


@pytest.mark.parametrize("username", ["dana", "ben", "cleo", "pat"])
def test_only_a_clinician_orders_a_dose(clinic: Clinic, course: Course, username: str) -> None:
    body = {"amount": "0.5", "basis": "mg_per_kg", "rationale": "Forged"}
    assert _dose(clinic, course, body, user=username).status_code == 403
    assert not DoseOrder.objects.exists()


# -- booking -----------------------------------------------------------------------------------


def _local_input(at: datetime) -> str:
    """What a datetime-local input sends: the clinic's wall-clock time, no offset."""
    return f"{timezone.localtime(at):%Y-%m-%dT%H:%M}"


def _book(
    clinic: Clinic, course: Course, start: str, chair: Chair | None, user: str | Client = "ben"
) -> Any:
    body = {"start": start, "chair": str(chair.pk) if chair else ""}
    return _client(clinic, user).post(f"/courses/{course.pk}/sessions/", body)


def test_staff_book_a_session_and_see_it_with_a_link_to_its_chart(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    assert f'<option value="{chair.pk}">Chair 1 (Room A)</option>' in _page(clinic, "ben")
    start = local_at(monday_ahead(), 9)
    before = _writes()
    ben = clinic.client("ben")
    response = _book(clinic, course, _local_input(start), chair, user=ben)
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.course == course and session.chair == chair and session.start == start
    assert session.status == "scheduled" and session.created_by == clinic.users["ben"]
    assert _writes()[len(before) :] == [("C", "Session", str(session.pk))]

    chart = f'href="/infusions/sessions/{session.pk}/"'
    page = _page(clinic, ben)
    assert f"Session booked: {start:%a %Y-%m-%d} 09:00 in Chair 1." in page
    assert chart in page and f"{start:%a %Y-%m-%d} 09:00" in page
    assert chart in _page(clinic, "ada") and chart in _page(clinic, "dana")
    # Intake books but does not open charts.
    assert chart not in _page(clinic, "cleo") and "Book a session" in _page(clinic, "cleo")
    # The patient sees the session in the portal (the staff's course page answers 404).
    pat = clinic.client("pat")
    assert pat.get(f"/courses/patients/{clinic.pat.pk}/").status_code == 404
    patient_page = pat.get("/portal/").content.decode()
    assert chart not in patient_page and "09:00" in patient_page
    assert "Book a session" not in patient_page


@pytest.mark.parametrize("username", ["dana", "ada", "cleo"])
def test_every_staff_role_books(
    clinic: Clinic, course: Course, chair: Chair, username: str
) -> None:
    start = _local_input(local_at(monday_ahead(), 9))
    assert _book(clinic, course, start, chair, user=username).status_code == 302
    assert Session.objects.get().created_by == clinic.users[username]


def test_a_patient_cannot_book(clinic: Clinic, course: Course, chair: Chair) -> None:
    start = _local_input(local_at(monday_ahead(), 9))
    assert _book(clinic, course, start, chair, user="pat").status_code == 403
    assert not Session.objects.exists()


@pytest.fixture
def berlin(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"


def test_the_start_is_read_in_the_clinic_time_zone(
    clinic: Clinic, course: Course, chair: Chair, berlin: None
) -> None:
    day = monday_ahead()
    response = _book(clinic, course, f"{day:%Y-%m-%d}T09:00", chair)
    assert response.status_code == 302
    stored = Session.objects.get().start
    assert stored == local_at(day, 9)
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    assert stored.astimezone(UTC).hour == (7 if local_at(day, 9).dst() else 8)
    assert "Clinic time (Europe/Berlin)." in _page(clinic, "ben")
    assert f"{day:%a %Y-%m-%d} 09:00" in _page(clinic, "ben")


def _next_spring_forward() -> date:
    """The last Sunday of March after today: Berlin's clocks skip 02:00-03:00 that night."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        last = date(year, 3, 31)
        sunday = last - timedelta(days=(last.weekday() - 6) % 7)
        if sunday > today:
            return sunday
    raise AssertionError("unreachable")


def test_a_time_the_clock_change_skips_is_refused(
    clinic: Clinic, course: Course, chair: Chair, berlin: None
) -> None:
    response = _book(clinic, course, f"{_next_spring_forward():%Y-%m-%d}T02:30", chair)
    assert response.status_code == 422
    errors = response.content.decode().split('id="id_start_errors"', 1)[1]
    assert "Europe/Berlin" in errors.split("</ul>", 1)[0]
    assert not Session.objects.exists()


def test_a_booking_inside_48_h_of_another_is_refused_with_the_reason(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    first = local_at(monday_ahead(), 9)
    assert _book(clinic, course, _local_input(first), chair).status_code == 302
    before = _writes()
    too_soon = first + timedelta(hours=47)
    response = _book(clinic, course, _local_input(too_soon), chair)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not booked" in page and "47 h 00 min after the session of" in page
    # The earlier session is named in the clinic's time, as it was typed.
    assert f"after the session of {first:%Y-%m-%d %H:%M} {first.tzname()};" in page
    assert "at least 48 h" in page
    # The form keeps what was typed.
    assert f'value="{_local_input(too_soon)}"' in page
    assert Session.objects.count() == 1
    assert _writes() == before


def test_a_chair_taken_by_another_patient_is_refused_with_the_reason(
    clinic: Clinic, course: Course, chair: Chair, iv_protocol: Protocol
) -> None:
    quinns = course_for(clinic, clinic.quinn, iv_protocol)
    start = local_at(monday_ahead(), 9)
    assert _book(clinic, course, _local_input(start), chair).status_code == 302
    response = _book(clinic, quinns, _local_input(start + timedelta(minutes=30)), chair)
    assert response.status_code == 409
    assert (
        f"chair Chair 1 is taken from {start:%Y-%m-%d} 09:00 to 10:40 by another session"
        in response.content.decode()
    )
    assert list(Session.objects.values_list("course", flat=True)) == [course.pk]


@pytest.mark.parametrize(
    ("start", "use_chair", "field"),
    [
        ("", True, "start"),
        ("next monday", True, "start"),
        ("2030-13-01T09:00", True, "start"),
        ("2030-01-07T09:00", False, "chair"),
    ],
)
def test_a_bad_booking_shows_the_error_beside_its_field_and_stores_nothing(
    clinic: Clinic, course: Course, chair: Chair, start: str, use_chair: bool, field: str
) -> None:
    response = _book(clinic, course, start, chair if use_chair else None)
    assert response.status_code == 422
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert not Session.objects.exists()


def test_an_unknown_chair_is_an_error_beside_the_chair(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    body = {"start": "2030-01-07T09:00", "chair": str(chair.pk + 100)}
    response = clinic.client("ben").post(f"/courses/{course.pk}/sessions/", body)
    assert response.status_code == 422
    assert 'id="id_chair_errors"' in response.content.decode()
    assert not Session.objects.exists()


# -- chairs ------------------------------------------------------------------------------------


def _add_chair(clinic: Clinic, body: dict[str, str], user: str = "dana") -> Any:
    return clinic.client(user).post("/courses/chairs/", body)


def test_the_administrator_adds_chairs_with_opening_hours_per_weekday(clinic: Clinic) -> None:
    assert "Add a chair" in clinic.client("dana").get("/courses/chairs/").content.decode()
    before = _writes()
    response = _add_chair(
        clinic,
        {
            "name": " Chair 1 ",
            "room": "Room A",
            "hours_0": "08:00-12:00, 13:00-17:00",
            "hours_2": "09:00 - 17:00",
        },
    )
    assert response.status_code == 302
    chair = Chair.objects.get()
    assert chair.name == "Chair 1" and chair.room == "Room A"
    assert chair.opening_hours == [
        {"weekday": 0, "opens": "08:00", "closes": "12:00"},
        {"weekday": 0, "opens": "13:00", "closes": "17:00"},
        {"weekday": 2, "opens": "09:00", "closes": "17:00"},
    ]
    assert _writes()[len(before) :] == [("C", "Chair", str(chair.pk))]
    assert _add_chair(clinic, {"name": "Chair 2"}).status_code == 302
    assert Chair.objects.get(name="Chair 2").opening_hours == []

    page = clinic.client("ben").get("/courses/chairs/").content.decode()
    assert "Monday 08:00-12:00<br>Monday 13:00-17:00<br>Wednesday 09:00-17:00" in page
    assert "Room A" in page and "Any time" in page
    assert "Add a chair" not in page


def test_a_booking_outside_the_hours_set_on_the_page_is_refused(
    clinic: Clinic, course: Course
) -> None:
    assert _add_chair(clinic, {"name": "Chair 1", "hours_0": "08:00-12:00"}).status_code == 302
    chair = Chair.objects.get()
    monday = monday_ahead()
    response = _book(clinic, course, f"{monday:%Y-%m-%d}T11:00", chair)
    assert response.status_code == 409
    assert (
        f"the chair is not open from {monday:%Y-%m-%d} 11:00 to 12:40 "
        "(opening hours: Monday 08:00-12:00)"
    ) in response.content.decode()
    assert _book(clinic, course, f"{monday:%Y-%m-%d}T08:00", chair).status_code == 302


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "C", "hours_1": "8-12"}, "hours_1", "8-12: write each opening as HH:MM-HH:MM"),
        ({"name": "C", "hours_1": "12:00-08:00"}, "hours_1", "12:00-08:00: must be after opens"),
        ({"name": "C", "hours_6": "25:00-26:00"}, "hours_6", "expected a time written HH:MM"),
        ({"name": "C", "hours_3": "08:00-12:00, noon"}, "hours_3", "noon: write each"),
    ],
)
def test_bad_chair_input_shows_the_error_beside_its_field_and_stores_nothing(
    clinic: Clinic, body: dict[str, str], field: str, message: str
) -> None:
    before = _writes()
    response = _add_chair(clinic, body)
    assert response.status_code == 422
    errors = response.content.decode().split(f'id="id_{field}_errors"', 1)
    assert len(errors) == 2
    assert message in errors[1].split("</ul>", 1)[0]
    assert not Chair.objects.exists()
    assert _writes() == before


def test_a_second_chair_of_the_same_name_is_refused_beside_the_name(clinic: Clinic) -> None:
    assert _add_chair(clinic, {"name": "Chair 1"}).status_code == 302
    duplicate = _add_chair(clinic, {"name": "Chair 1", "room": "B"})
    assert duplicate.status_code == 422
    assert 'id="id_name_errors"' in duplicate.content.decode()
    assert Chair.objects.count() == 1


@pytest.mark.parametrize("username", ["ada", "ben", "cleo"])
def test_only_the_administrator_adds_chairs(clinic: Clinic, username: str) -> None:
    assert _add_chair(clinic, {"name": "Chair 9"}, user=username).status_code == 403
    assert not Chair.objects.exists()


def test_patients_and_strangers_do_not_see_the_chairs(clinic: Clinic) -> None:
    assert clinic.client("pat").get("/courses/chairs/").status_code == 403
    assert _add_chair(clinic, {"name": "Chair 9"}, user="pat").status_code == 403
    assert Client().get("/courses/chairs/").status_code == 302


def test_the_schedule_links_the_chairs_and_each_session_chart(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    monday = monday_ahead()
    session = services.session_book(
        acting_user=clinic.users["ben"],
        course=course,
        chair_name=chair.name,
        start=local_at(monday, 9),
    )
    chart = f'href="/infusions/sessions/{session.pk}/"'
    day = clinic.client("ben").get(f"/courses/schedule/day/{monday}/").content.decode()
    assert 'href="/courses/chairs/"' in day and chart in day
    week = clinic.client("ada").get(f"/courses/schedule/week/{monday}/").content.decode()
    assert chart in week
    intake_day = clinic.client("cleo").get(f"/courses/schedule/day/{monday}/").content.decode()
    assert chart not in intake_day and 'href="/courses/chairs/"' in intake_day
