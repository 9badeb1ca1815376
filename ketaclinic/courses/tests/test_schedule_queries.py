"""The schedule pages load in a fixed number of queries, however many sessions they list."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.courses.tests.conftest import book, course_for, local_at, monday_ahead
from ketaclinic.testing import Clinic, make_patient


def _queries(clinic: Clinic, url: str) -> int:
    client = clinic.client("ben")
    client.get(url)  # warm the session and the user
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_day_and_week_views_do_not_query_per_session(
    clinic: Clinic, course: Course, chair: Chair, iv_protocol: Protocol
) -> None:
    monday = monday_ahead()
    day_url = f"/courses/schedule/day/{monday}/"
    week_url = f"/courses/schedule/week/{monday}/"

    def book_another(n: int) -> None:
        patient = make_patient(given_name=f"Extra{n}", email="")
        other = course_for(clinic, patient, iv_protocol)
        start = local_at(monday, 10) + timedelta(hours=2 * n)
        assert book(clinic, other, start).status_code == 201

    # Two patients to begin with: the audit of the patients listed is one statement for one
    # event on PostgreSQL and two for several (audit.services), the same for 2 or 200.
    assert book(clinic, course, local_at(monday, 8)).status_code == 201
    book_another(0)
    two_day, two_week = _queries(clinic, day_url), _queries(clinic, week_url)
    for n in range(1, 4):
        book_another(n)
    assert _queries(clinic, day_url) == two_day
    assert _queries(clinic, week_url) == two_week
