"""Two bookings of one chair at the same time, from two threads with their own connections."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from ketaclinic.courses import services
from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.courses.tests.conftest import course_for, local_at, monday_ahead
from ketaclinic.infusions.models import Session
from ketaclinic.testing import Clinic


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_one_chair_exactly_one_succeeds(
    clinic: Clinic, iv_protocol: Protocol, cleared: None, on_site: None
) -> None:
    chair = services.chair_create(acting_user=clinic.users["dana"], name="Chair 1")
    courses = [
        course_for(clinic, clinic.pat, iv_protocol),
        course_for(clinic, clinic.quinn, iv_protocol),
    ]
    start = local_at(monday_ahead(), 9)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def attempt(course: Course, user: Any) -> None:
        try:
            barrier.wait(timeout=10)
            services.session_book(
                acting_user=user, course=course, chair_name="Chair 1", start=start
            )
            outcomes.append("booked")
        except services.Refused as exc:
            outcomes.append("refused: " + "; ".join(exc.reasons))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(courses[0], clinic.users["ben"])),
        threading.Thread(target=attempt, args=(courses[1], clinic.users["cleo"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes)[0] == "booked"
    assert sorted(outcomes)[1].startswith("refused: chair Chair 1 is taken")
    assert Session.objects.filter(chair=chair).count() == 1
    assert isinstance(chair, Chair)
