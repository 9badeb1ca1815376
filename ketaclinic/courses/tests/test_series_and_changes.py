"""Booking an induction series in one step, the free-slot view, refusal without a prescriber on
site, and cancelling, moving or marking a session as not attended (API; the pages are in
test_schedule_pages.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses import bookings, services
from ketaclinic.courses.models import (
    Chair,
    Course,
    PrescriberPresence,
    Protocol,
    SessionChange,
)
from ketaclinic.courses.tests.conftest import book, course_for, local_at, monday_ahead
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.testing import Clinic

WEEKDAYS_8_TO_18 = [{"weekday": d, "opens": "08:00", "closes": "18:00"} for d in range(5)]


def weekday_chair(clinic: Clinic, name: str = "Chair W") -> Chair:
    return services.chair_create(
        acting_user=clinic.users["dana"], name=name, opening_hours=WEEKDAYS_8_TO_18
    )


def post(clinic: Clinic, user: str, path: str, body: dict[str, object]) -> Any:
    return clinic.api(user).post(f"/api/v1{path}", body, content_type="application/json")


def test_a_series_is_proposed_by_the_protocols_spacing_and_booked_in_one_step(
    clinic: Clinic, course: Course
) -> None:
    weekday_chair(clinic)
    monday = monday_ahead()
    proposal = post(
        clinic,
        "cleo",
        f"/courses/{course.pk}/series-proposal",
        {"chair": "Chair W", "first_start": local_at(monday, 9).isoformat()},
    )
    assert proposal.status_code == 200, proposal.content
    body = proposal.json()
    starts = [timezone.localtime(datetime.fromisoformat(s)) for s in body["starts"]]
    # IV protocol: 6 induction sessions, at least 48 h apart, chair closed at weekends:
    # Monday, Wednesday, Friday, twice (Murrough 2013's schedule).
    assert [(s.date() - monday).days for s in starts] == [0, 2, 4, 7, 9, 11]
    assert body["problems"] == []
    assert any("closed on Sundays" in s["reason"] for s in body["skipped"])

    booked = post(
        clinic,
        "cleo",
        f"/courses/{course.pk}/series",
        {"chair": "Chair W", "starts": body["starts"]},
    )
    assert booked.status_code == 201, booked.content
    assert Session.objects.filter(course=course).count() == 6
    assert AuditEvent.objects.filter(object_type="Session", action="C").count() == 6


def test_a_series_with_one_refused_date_books_nothing_and_names_the_date(
    clinic: Clinic, course: Course
) -> None:
    weekday_chair(clinic)
    monday = monday_ahead()
    saturday = monday + timedelta(days=5)
    starts = [local_at(monday, 9).isoformat(), local_at(saturday, 9).isoformat()]
    refused = post(
        clinic, "ben", f"/courses/{course.pk}/series", {"chair": "Chair W", "starts": starts}
    )
    assert refused.status_code == 409
    reasons = refused.json()["reasons"]
    assert len(reasons) == 1
    assert reasons[0].startswith(
        f"session 2 (Sat {saturday:%Y-%m-%d} 09:00): the chair is not open"
    )
    assert not Session.objects.filter(course=course).exists()


def test_booking_on_a_day_without_a_prescriber_is_refused(
    clinic: Clinic, iv_protocol: Protocol, cleared: None
) -> None:
    course = course_for(clinic, clinic.pat, iv_protocol)
    Chair.objects.create(name="Chair 1")
    day = monday_ahead()
    refused = book(clinic, course, local_at(day, 9))
    assert refused.status_code == 409
    assert refused.json()["reasons"] == [
        f"no prescriber is marked on site on {day:%a %Y-%m-%d}: the infusion could not start; "
        "mark a prescriber on site on the schedule first"
    ]
    services.presence_record(
        acting_user=clinic.users["ben"],
        clinician=clinic.users["ada"],
        day=day,
        from_time=time(8, 0),
        to_time=time(12, 0),
    )
    afternoon = book(clinic, course, local_at(day, 13))
    assert afternoon.status_code == 409
    assert afternoon.json()["reasons"] == [
        f"no prescriber is on site at {day:%a %Y-%m-%d} 13:00 (on site then: 08:00-12:00): "
        "the infusion could not start"
    ]
    assert book(clinic, course, local_at(day, 9)).status_code == 201


def test_free_slots_show_each_chairs_open_time_around_its_sessions(
    clinic: Clinic, course: Course
) -> None:
    weekday_chair(clinic)
    monday = monday_ahead()
    assert book(clinic, course, local_at(monday, 10), chair="Chair W").status_code == 201
    answer = clinic.api("cleo").get(
        f"/api/v1/chairs/free-slots?day={monday.isoformat()}&session_minutes=100"
    )
    assert answer.status_code == 200
    (chair,) = answer.json()["chairs"]
    assert chair["chair"] == "Chair W"
    free = [
        (
            timezone.localtime(datetime.fromisoformat(r["start"])).strftime("%H:%M"),
            timezone.localtime(datetime.fromisoformat(r["end"])).strftime("%H:%M"),
        )
        for r in chair["free"]
    ]
    assert free == [("08:00", "10:00"), ("11:40", "18:00")]
    first_slots = [
        timezone.localtime(datetime.fromisoformat(s["start"])).strftime("%H:%M")
        for s in chair["slots"][:3]
    ]
    assert first_slots == ["08:00", "12:00", "12:30"]
    assert all(s["prescriber_on_site"] for s in chair["slots"])


def test_a_patient_may_not_see_free_slots(clinic: Clinic) -> None:
    day = timezone.localdate().isoformat()
    answer = clinic.api("pat").get(f"/api/v1/chairs/free-slots?day={day}")
    assert answer.status_code == 403


def test_cancel_reschedule_and_no_show_need_a_reason_and_are_audited(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    start = local_at(monday_ahead(), 9)
    session_id = book(clinic, course, start).json()["id"]

    no_reason = post(clinic, "cleo", f"/sessions/{session_id}/cancel", {"reason": "  "})
    assert no_reason.status_code == 422

    moved = post(
        clinic,
        "cleo",
        f"/sessions/{session_id}/reschedule",
        {"start": (start + timedelta(days=1)).isoformat(), "chair": "Chair 1", "reason": "Asked"},
    )
    assert moved.status_code == 200, moved.content
    session = Session.objects.get(pk=session_id)
    assert session.start == start + timedelta(days=1)
    assert session.chair_until == session.start + timedelta(minutes=100)

    # A future session cannot be a no-show; it can be cancelled.
    refused = post(clinic, "cleo", f"/sessions/{session_id}/no-show", {"reason": "Not here"})
    assert refused.status_code == 409
    cancelled = post(clinic, "cleo", f"/sessions/{session_id}/cancel", {"reason": "Unwell"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = post(clinic, "cleo", f"/sessions/{session_id}/cancel", {"reason": "Twice"})
    assert again.status_code == 409

    changes = list(SessionChange.objects.filter(session_id=session_id))
    assert [(c.kind, c.reason) for c in changes] == [
        ("rescheduled", "Asked"),
        ("cancelled", "Unwell"),
    ]
    assert changes[0].from_start == start and changes[0].to_start == start + timedelta(days=1)
    assert AuditEvent.objects.filter(object_type="SessionChange", action="C").count() == 2
    assert (
        AuditEvent.objects.filter(
            object_type="Session", object_id=session_id, action="U", patient_id=clinic.pat.pk
        ).count()
        == 2
    )
    # The chair is free again for another booking at the old time.
    assert book(clinic, course, start).status_code == 201


def test_a_reschedule_is_refused_with_every_reason_and_changes_nothing(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    start = local_at(monday_ahead(), 9)
    first = book(clinic, course, start).json()["id"]
    second = book(clinic, course, start + timedelta(days=2)).json()["id"]
    refused = post(
        clinic,
        "ben",
        f"/sessions/{second}/reschedule",
        {"start": (start + timedelta(hours=24)).isoformat(), "chair": "Chair 1", "reason": "x"},
    )
    assert refused.status_code == 409
    assert "the induction phase needs at least 48 h" in refused.json()["detail"]
    assert Session.objects.get(pk=second).start == start + timedelta(days=2)
    assert not SessionChange.objects.exists()
    # Moving a session does not count it against itself (48 h later than the first is fine).
    moved = post(
        clinic,
        "ben",
        f"/sessions/{second}/reschedule",
        {"start": (start + timedelta(days=3)).isoformat(), "chair": "Chair 1", "reason": "x"},
    )
    assert moved.status_code == 200
    assert first != second


def test_a_no_show_today_closes_the_session(clinic: Clinic, course: Course, chair: Chair) -> None:
    session = Session.objects.create(
        course=course,
        chair=chair,
        phase="induction",
        start=timezone.now() - timedelta(minutes=30),
        chair_until=timezone.now() + timedelta(minutes=70),
        created_by=clinic.users["ben"],
    )
    bookings.session_no_show(acting_user=clinic.users["ben"], session=session, reason="No answer")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    change = SessionChange.objects.get(session=session)
    assert change.kind == "no_show" and change.get_kind_display() == "Did not attend"


def test_a_patient_cannot_cancel(clinic: Clinic, course: Course, chair: Chair) -> None:
    session_id = book(clinic, course, local_at(monday_ahead(), 9)).json()["id"]
    answer = post(clinic, "pat", f"/sessions/{session_id}/cancel", {"reason": "x"})
    assert answer.status_code in (403, 404)
    assert Session.objects.get(pk=session_id).status == "scheduled"
    assert PrescriberPresence.objects.exists()
