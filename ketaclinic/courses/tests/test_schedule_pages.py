"""The scheduling pages without a browser: a series proposed and booked in one step, a refused
series books nothing, the free-slot view, and a session moved, cancelled or recorded as not
attended with a reason."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketaclinic.courses import services
from ketaclinic.courses.models import Chair, Course, SessionChange
from ketaclinic.courses.tests.conftest import local_at, monday_ahead
from ketaclinic.infusions.models import Session
from ketaclinic.testing import Clinic

WEEKDAYS = [{"weekday": d, "opens": "08:00", "closes": "18:00"} for d in range(5)]


def test_a_series_is_proposed_then_booked_from_the_page(clinic: Clinic, course: Course) -> None:
    services.chair_create(acting_user=clinic.users["dana"], name="Chair W", opening_hours=WEEKDAYS)
    chair = Chair.objects.get(name="Chair W")
    client = clinic.client("cleo")
    url = f"/courses/{course.pk}/series/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"The protocol allows 6 more in this phase." in page.content
    monday = monday_ahead()
    proposed = client.post(
        url, {"first_start": f"{monday:%Y-%m-%d}T09:00", "chair": chair.pk, "count": 6}
    )
    assert proposed.status_code == 200
    starts = proposed.context["proposal"].starts
    assert [(s.date() - monday).days for s in starts] == [0, 2, 4, 7, 9, 11]
    assert b"Book 6 sessions" in proposed.content
    assert not Session.objects.exists()

    booked = client.post(url, {"chair": chair.pk, "starts": [s.isoformat() for s in starts]})
    assert booked.status_code == 302
    assert Session.objects.filter(course=course).count() == 6
    follow = client.get(booked["Location"])
    assert b"6 sessions booked in Chair W" in follow.content


def test_a_refused_series_from_the_page_books_nothing(clinic: Clinic, course: Course) -> None:
    services.chair_create(acting_user=clinic.users["dana"], name="Chair W", opening_hours=WEEKDAYS)
    chair = Chair.objects.get(name="Chair W")
    saturday = monday_ahead() + timedelta(days=5)
    answer = clinic.client("ben").post(
        f"/courses/{course.pk}/series/",
        {"chair": chair.pk, "starts": [local_at(saturday, 9).isoformat()]},
    )
    assert answer.status_code == 409
    assert b"Nothing was booked" in answer.content
    assert b"the chair is not open" in answer.content
    assert not Session.objects.exists()


def test_the_free_slot_page_lists_each_chairs_free_starts(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    monday = monday_ahead()
    services.session_book(
        acting_user=clinic.users["ben"],
        course=course,
        chair_name="Chair 1",
        start=local_at(monday, 10),
    )
    page = clinic.client("cleo").get(f"/courses/schedule/day/{monday.isoformat()}/free/")
    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert [
        f"{timezone.localtime(r.start):%H:%M}-{timezone.localtime(r.end):%H:%M}" for r in row.free
    ] == [
        "07:00-10:00",
        "11:40-20:00",
    ]
    assert b"Free starts in Chair 1" in page.content
    assert (
        clinic.client("pat").get(f"/courses/schedule/day/{monday.isoformat()}/free/").status_code
        == 403
    )


def test_a_session_is_moved_and_cancelled_from_its_page(
    clinic: Clinic, course: Course, chair: Chair
) -> None:
    start = local_at(monday_ahead(), 9)
    session = services.session_book(
        acting_user=clinic.users["ben"], course=course, chair_name="Chair 1", start=start
    )
    client = clinic.client("cleo")
    page = client.get(f"/courses/sessions/{session.pk}/")
    assert page.status_code == 200 and b"Move the session" in page.content
    assert b"Record as not attended" not in page.content  # a later day: cancel, not no-show

    no_reason = client.post(f"/courses/sessions/{session.pk}/cancel/", {"reason": ""})
    assert no_reason.status_code == 422
    moved = client.post(
        f"/courses/sessions/{session.pk}/reschedule/",
        {
            "start": f"{start + timedelta(days=1):%Y-%m-%dT%H:%M}",
            "chair": chair.pk,
            "reason": "Patient asked",
        },
    )
    assert moved.status_code == 302
    session.refresh_from_db()
    assert session.start == start + timedelta(days=1)
    cancelled = client.post(f"/courses/sessions/{session.pk}/cancel/", {"reason": "Unwell"})
    assert cancelled.status_code == 302
    page = client.get(f"/courses/sessions/{session.pk}/")
    assert b"Unwell" in page.content and b"Patient asked" in page.content
    assert [c.kind for c in SessionChange.objects.all()] == ["rescheduled", "cancelled"]


def test_the_administrator_changes_a_chairs_hours(clinic: Clinic, chair: Chair) -> None:
    client = clinic.client("dana")
    page = client.get(f"/courses/chairs/{chair.pk}/")
    assert page.status_code == 200
    bad = client.post(f"/courses/chairs/{chair.pk}/", {"room": "B", "hours_0": "9-5"})
    assert bad.status_code == 422
    saved = client.post(
        f"/courses/chairs/{chair.pk}/",
        {"name": "Renamed?", "room": "Room B", "hours_0": "08:00-12:00, 13:00-17:00"},
    )
    assert saved.status_code == 302
    chair.refresh_from_db()
    assert chair.name == "Chair 1"  # the name is not changed here
    assert chair.room == "Room B"
    assert chair.opening_hours == [
        {"weekday": 0, "opens": "08:00", "closes": "12:00"},
        {"weekday": 0, "opens": "13:00", "closes": "17:00"},
    ]
    again = client.get(f"/courses/chairs/{chair.pk}/").content.decode()
    assert 'value="08:00-12:00, 13:00-17:00"' in again
    assert clinic.client("ben").get(f"/courses/chairs/{chair.pk}/").status_code == 403


def test_a_protocol_is_edited_as_a_form_with_sources_into_a_new_version(clinic: Clinic) -> None:
    from ketaclinic.courses.models import Protocol
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure
    from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN

    shipped_rows_ensure()
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    client = clinic.client("dana")
    url = f"/courses/protocols/{protocol.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Murrough 2013 (Biol Psychiatry 74:250)" in html  # a source beside its value
    rows = page.context["rows"]
    index = next(i["index"] for i in rows if i["row"].path == "schedule.induction.window_days")
    form = {f"v{i['index']}": i["shown"] for i in rows}
    bad = client.post(url, {**form, f"v{index}": "three weeks", "source": "x"})
    assert bad.status_code == 422 and "must be a number" in bad.content.decode()
    saved = client.post(url, {**form, f"v{index}": "28", "source": "Director, 2026-12-01"})
    assert saved.status_code == 302
    new = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    assert new.version == protocol.version + 1
    assert new.definition().schedule["induction"].window_days.value == 28  # type: ignore[index, union-attr]
    assert '"value": 0.5' in new.definition_json  # untouched decimals stay as written
    assert clinic.client("ben").get(url).status_code == 403
