from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses import services
from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.courses.selectors import prescriber_on_site
from ketaclinic.courses.tests.conftest import book, course_for, local_at, monday_ahead
from ketaclinic.infusions.models import Session
from ketaclinic.testing import Clinic


def test_a_booking_is_stored_and_audited(clinic: Clinic, course: Course, chair: Chair) -> None:
    start = local_at(monday_ahead(), 9)
    response = book(clinic, course, start)
    assert response.status_code == 201
    session = Session.objects.get(pk=response.json()["id"])
    assert session.course == course and session.chair == chair and session.start == start
    assert session.status == "scheduled" and session.phase == "induction"
    # 40 min infusion + 60 min minimum observation.
    assert session.chair_until == start + timedelta(minutes=100)
    assert session.created_by == clinic.users["ben"]
    event = AuditEvent.objects.get(object_type="Session", object_id=str(session.pk))
    assert event.action == "C" and event.patient_id == clinic.pat.pk


def test_47_h_59_after_another_induction_session_is_refused_and_48_h_accepted(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    first = local_at(monday_ahead(), 9)
    assert book(clinic, course, first).status_code == 201
    too_soon = book(clinic, course, first + timedelta(hours=47, minutes=59))
    assert too_soon.status_code == 409
    reasons = too_soon.json()["reasons"]
    assert len(reasons) == 1
    assert reasons[0].startswith("47 h 59 min after the session of")
    assert "at least 48 h" in reasons[0]
    # Spacing applies before an existing session too.
    assert book(clinic, course, first - timedelta(hours=47)).status_code == 409
    assert book(clinic, course, first + timedelta(hours=48)).status_code == 201
    assert Session.objects.count() == 2


def test_the_seventh_induction_session_is_refused(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    first = local_at(monday_ahead(), 9)
    for n in range(6):
        assert book(clinic, course, first + timedelta(days=2 * n)).status_code == 201
    seventh = book(clinic, course, first + timedelta(days=12))
    assert seventh.status_code == 409
    assert seventh.json()["reasons"] == ["this would be induction session 7; the protocol allows 6"]
    # Maintenance has its own rules: weekly sessions, no count limit.
    services.course_phase_set(
        acting_user=clinic.users["ada"], course=course, phase="maintenance", reason="Response"
    )
    assert book(clinic, course, first + timedelta(days=17)).status_code == 201


def test_a_chair_is_not_booked_twice(
    clinic: Clinic, course: Course, chair: Chair, iv_protocol: Protocol
) -> None:
    quinns = course_for(clinic, clinic.quinn, iv_protocol)
    start = local_at(monday_ahead(), 9)
    assert book(clinic, course, start).status_code == 201
    overlap = book(clinic, quinns, start + timedelta(minutes=99))
    assert overlap.status_code == 409
    assert overlap.json()["reasons"] == [
        f"chair Chair 1 is taken from {start:%Y-%m-%d} 09:00 to 10:40 by another session"
    ]
    assert book(clinic, quinns, start - timedelta(minutes=99)).status_code == 409
    # Exactly when the chair is free again, and in another chair at the same time: fine.
    services.chair_create(acting_user=clinic.users["dana"], name="Chair 2")
    assert book(clinic, quinns, start, chair="Chair 2").status_code == 201
    later = book(clinic, quinns, start + timedelta(days=2, minutes=100))
    assert later.status_code == 201


def test_every_reason_is_given_at_once(
    clinic: Clinic, course: Course, chair: Chair, iv_protocol: Protocol
) -> None:
    quinns = course_for(clinic, clinic.quinn, iv_protocol)
    start = local_at(monday_ahead(), 9)
    assert book(clinic, quinns, start).status_code == 201
    assert book(clinic, course, start + timedelta(days=1)).status_code == 201
    response = book(clinic, course, start + timedelta(minutes=30))
    assert response.status_code == 409
    reasons = response.json()["reasons"]
    assert len(reasons) == 2
    assert "before the session of" in reasons[0]
    assert reasons[1].startswith("chair Chair 1 is taken")


@pytest.fixture
def berlin(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"


def test_opening_hours_are_in_the_clinic_time_zone(
    clinic: Clinic, course: Course, berlin: None
) -> None:
    hours = [{"weekday": 0, "opens": "08:00", "closes": "12:00"}]
    response = clinic.api("dana").post(
        "/api/v1/chairs",
        {"name": "Chair 1", "room": "A", "opening_hours": hours},
        content_type="application/json",
    )
    assert response.status_code == 201
    monday = monday_ahead()
    # 11:00 + 100 min ends at 12:40, after closing.
    late = book(clinic, course, local_at(monday, 11))
    assert late.status_code == 409
    assert late.json()["reasons"] == [
        f"the chair is not open from {monday:%Y-%m-%d} 11:00 to 12:40 "
        "(opening hours: Monday 08:00-12:00)"
    ]
    tuesday = book(clinic, course, local_at(monday + timedelta(days=1), 9))
    assert tuesday.status_code == 409
    assert "closed on Tuesdays" in tuesday.json()["reasons"][0]
    # 08:00 Berlin sent in UTC is still 08:00 at the clinic: inside the hours.
    start = local_at(monday, 8).astimezone(UTC)
    assert book(clinic, course, start).status_code == 201


def test_a_chair_without_opening_hours_takes_any_time(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    assert chair.opening_hours == []
    sunday_night = local_at(monday_ahead() + timedelta(days=6), 23)
    assert book(clinic, course, sunday_night).status_code == 201


def test_the_reminder_is_e_mailed_after_the_booking_commits(
    clinic: Clinic,
    course: Course,
    chair: Chair,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    start = local_at(monday_ahead(), 9)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert book(clinic, course, start).status_code == 201
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@example.org"]
    subject = message.subject.lower()
    for word in ("ketamine", "infusion", "treatment", "anxiety", "depression", "dose"):
        assert word not in subject
    assert f"{start:%d %B %Y}" in message.subject
    body = message.body
    assert "Fasting" in body and "escort" in body.lower() and "do not drive" in body
    assert "until the next day" in body


def test_no_reminder_without_an_e_mail_address_nor_for_a_refused_booking(
    clinic: Clinic,
    course: Course,
    chair: Chair,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    start = local_at(monday_ahead(), 9)
    with django_capture_on_commit_callbacks(execute=True):
        assert book(clinic, course, start).status_code == 201
        assert book(clinic, course, start + timedelta(hours=1)).status_code == 409
    assert len(mail.outbox) == 1
    clinic.pat.email = ""
    clinic.pat.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        assert book(clinic, course, start + timedelta(days=2)).status_code == 201
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2030-01-07T09:00:00", "chair": "Chair 1"}, "start"),
        ({"start": "next monday", "chair": "Chair 1"}, "start"),
        ({"start": 1893920400, "chair": "Chair 1"}, "start"),
        ({"start": "2030-01-07T09:00:00+01:00", "chair": 1}, "chair"),
        ({"start": "2030-01-07T09:00:00+01:00", "chair": "No such chair"}, "chair"),
        ({"start": "2030-01-07T09:00:00+01:00"}, "chair"),
        ({"start": "2030-01-07T09:00:00+01:00", "chair": "Chair 1", "x": 1}, "x"),
    ],
)
def test_a_bad_booking_is_refused_with_its_field_and_nothing_stored(
    clinic: Clinic, course: Course, chair: Chair, body: dict[str, Any], field: str
) -> None:
    response = clinic.api("ben").post(
        f"/api/v1/courses/{course.pk}/sessions", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert field in [problem["field"] for problem in response.json()["detail"]]
    assert not Session.objects.exists()


def test_a_past_start_is_refused(clinic: Clinic, course: Course, chair: Chair) -> None:
    response = book(clinic, course, timezone.now() - timedelta(hours=1))
    assert response.status_code == 409
    assert response.json()["reasons"] == ["the start is in the past"]


@pytest.mark.parametrize(("username", "status"), [("dana", 201), ("ada", 201), ("cleo", 201)])
def test_front_desk_and_clinical_staff_book(
    clinic: Clinic, course: Course, chair: Chair, username: str, status: int
) -> None:
    response = clinic.api(username).post(
        f"/api/v1/courses/{course.pk}/sessions",
        {"start": local_at(monday_ahead(), 9).isoformat(), "chair": "Chair 1"},
        content_type="application/json",
    )
    assert response.status_code == status


def test_patients_do_not_book(clinic: Clinic, course: Course, chair: Chair) -> None:
    response = clinic.api("pat").post(
        f"/api/v1/courses/{course.pk}/sessions",
        {"start": local_at(monday_ahead(), 9).isoformat(), "chair": "Chair 1"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Session.objects.exists()


def test_only_administrators_add_chairs_and_bad_hours_are_refused_with_their_path(
    clinic: Clinic,
) -> None:
    def post(username: str, body: dict[str, Any]) -> Any:
        return clinic.api(username).post("/api/v1/chairs", body, content_type="application/json")

    for username in ("ada", "ben", "cleo", "pat"):
        assert post(username, {"name": "Chair 9"}).status_code == 403
    bad_day = post(
        "dana",
        {"name": "C", "opening_hours": [{"weekday": 7, "opens": "08:00", "closes": "12:00"}]},
    )
    assert bad_day.status_code == 422
    assert bad_day.json()["detail"][0]["field"] == "opening_hours.0.weekday"
    backwards = post(
        "dana",
        {"name": "C", "opening_hours": [{"weekday": 1, "opens": "12:00", "closes": "08:00"}]},
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["field"] == "opening_hours.0"
    bad_time = post(
        "dana", {"name": "C", "opening_hours": [{"weekday": 1, "opens": "8", "closes": "12:00"}]}
    )
    assert bad_time.json()["detail"][0]["field"] == "opening_hours.0.opens"
    assert not Chair.objects.exists()
    assert post("dana", {"name": "Chair 1"}).status_code == 201
    duplicate = post("dana", {"name": "Chair 1"})
    assert duplicate.status_code == 422
    assert duplicate.json()["detail"][0]["field"] == "name"
    assert Chair.objects.count() == 1


def test_prescriber_presence_is_marked_and_answered(clinic: Clinic, berlin: None) -> None:
    monday = monday_ahead()
    body = {
        "clinician": "ada",
        "date": monday.isoformat(),
        "from_time": "08:00",
        "to_time": "13:00",
    }
    for username in ("cleo", "pat"):
        response = clinic.api(username).post(
            "/api/v1/prescriber-presence", body, content_type="application/json"
        )
        assert response.status_code == 403
    response = clinic.api("ben").post(
        "/api/v1/prescriber-presence", body, content_type="application/json"
    )
    assert response.status_code == 201
    assert prescriber_on_site(local_at(monday, 8))
    assert prescriber_on_site(local_at(monday, 12, 59))
    assert not prescriber_on_site(local_at(monday, 13))
    assert not prescriber_on_site(local_at(monday, 7, 59))
    assert not prescriber_on_site(local_at(monday + timedelta(days=1), 9))
    # 07:30 UTC is 08:30 or 09:30 in Berlin: on site.
    assert prescriber_on_site(local_at(monday, 9).astimezone(UTC) - timedelta(minutes=30))
    nurse = dict(body, clinician="ben")
    refused = clinic.api("ben").post(
        "/api/v1/prescriber-presence", nurse, content_type="application/json"
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "clinician"


def test_the_day_and_week_views_list_sessions_by_chair_and_record_the_reads(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    monday = monday_ahead()
    response = book(clinic, course, local_at(monday, 9))
    session_id = response.json()["id"]
    services.presence_record(
        acting_user=clinic.users["ben"],
        clinician=clinic.users["ada"],
        day=monday,
        from_time=local_at(monday, 8).time(),
        to_time=local_at(monday, 17).time(),
    )
    reads = AuditEvent.objects.filter(object_type="Session", action="R")
    day = clinic.client("cleo").get(f"/courses/schedule/day/{monday.isoformat()}/")
    assert day.status_code == 200
    page = day.content.decode()
    assert "Chair 1" in page and "Example, Pat" in page and clinic.pat.mrn in page
    assert "09:00" in page and "ada" in page and "08:00" in page
    assert reads.filter(object_id=session_id, patient_id=clinic.pat.pk).count() == 1
    wednesday = monday + timedelta(days=2)
    week = clinic.client("ben").get(f"/courses/schedule/week/{wednesday.isoformat()}/")
    assert week.status_code == 200
    assert clinic.pat.mrn in week.content.decode()
    assert reads.count() == 2
    assert clinic.client("pat").get(f"/courses/schedule/day/{monday}/").status_code == 403
    assert clinic.client("ben").get("/courses/schedule/day/2026-02-30/").status_code == 404
    assert clinic.client("ben").get("/courses/schedule/day/20260105/").status_code == 404


def test_presence_is_marked_from_the_day_view(clinic: Clinic) -> None:
    monday = monday_ahead()
    url = f"/courses/schedule/day/{monday}/presence/"
    body = {"clinician": clinic.users["ada"].pk, "from_time": "08:00", "to_time": "12:00"}
    assert clinic.client("cleo").post(url, body).status_code == 403
    response = clinic.client("ben").post(url, body)
    assert response.status_code == 302
    assert prescriber_on_site(local_at(monday, 10))
