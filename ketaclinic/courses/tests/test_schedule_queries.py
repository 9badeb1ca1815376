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
    assert book(clinic, course, local_at(monday, 8)).status_code == 201
    one_day, one_week = _queries(clinic, day_url), _queries(clinic, week_url)
    for n in range(3):
        patient = make_patient(given_name=f"Extra{n}", email="")
        other = course_for(clinic, patient, iv_protocol)
        start = local_at(monday, 10) + timedelta(hours=2 * n)
        assert book(clinic, other, start).status_code == 201
    assert _queries(clinic, day_url) == one_day
    assert _queries(clinic, week_url) == one_week
