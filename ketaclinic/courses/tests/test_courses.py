from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses.models import Course, CourseStatus, DoseOrder, Protocol
from ketaclinic.courses.tests.conftest import book, local_at, monday_ahead
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.testing import Clinic


def _start(clinic: Clinic, username: str, protocol: Protocol, patient_id: Any = None) -> Any:
    return clinic.api(username).post(
        f"/api/v1/patients/{patient_id or clinic.pat.pk}/courses",
        {"protocol": protocol.pk},
        content_type="application/json",
    )


def _post(clinic: Clinic, username: str, url: str, body: dict[str, Any]) -> Any:
    return clinic.api(username).post(url, body, content_type="application/json")


def test_a_course_is_refused_with_the_reasons_until_intake_clears_the_patient(
    clinic: Clinic, iv_protocol: Protocol
) -> None:
    response = _start(clinic, "ada", iv_protocol)
    assert response.status_code == 409
    no_decision, no_consent = response.json()["reasons"]
    assert no_decision == "no eligible decision recorded"
    assert no_consent.startswith("no current consent: not signed: ")
    assert not Course.objects.exists()


def test_a_cleared_patient_starts_a_course_on_the_protocol_version(
    clinic: Clinic, iv_protocol: Protocol, cleared: None
) -> None:
    response = _start(clinic, "ada", iv_protocol)
    assert response.status_code == 201
    course = Course.objects.get(pk=response.json()["id"])
    assert course.patient == clinic.pat and course.protocol == iv_protocol
    assert course.phase == "induction" and course.status == "active"
    assert course.started_by == clinic.users["ada"]
    event = AuditEvent.objects.filter(object_type="Course").get()
    assert event.action == "C" and event.patient_id == clinic.pat.pk
    # One open course at a time.
    again = _start(clinic, "ada", iv_protocol)
    assert again.status_code == 409
    assert "already has an open course" in again.json()["detail"]


def test_only_clinicians_start_courses(
    clinic: Clinic, iv_protocol: Protocol, cleared: None
) -> None:
    for username in ("dana", "ben", "cleo", "pat"):
        assert _start(clinic, username, iv_protocol).status_code == 403
    # Another patient's record is not found for a patient, as if it did not exist.
    assert _start(clinic, "pat", iv_protocol, clinic.quinn.pk).status_code == 404
    assert not Course.objects.exists()


def test_an_old_or_unknown_protocol_version_is_refused_with_its_field(
    clinic: Clinic, iv_protocol: Protocol, cleared: None
) -> None:
    Protocol.objects.filter(pk=iv_protocol.pk).update(active=False)
    response = _start(clinic, "ada", iv_protocol)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "protocol"
    bad = _post(clinic, "ada", f"/api/v1/patients/{clinic.pat.pk}/courses", {"protocol": "1"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "protocol"
    assert not Course.objects.exists()


def test_pause_resume_and_end_need_a_reason_and_are_audited(
    clinic: Clinic, course: Course, chair: Any
) -> None:
    url = f"/api/v1/courses/{course.pk}"
    assert _post(clinic, "ben", f"{url}/pause", {"reason": "Holiday"}).status_code == 403
    missing = _post(clinic, "ada", f"{url}/pause", {"reason": "  "})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "reason"

    paused = _post(clinic, "ada", f"{url}/pause", {"reason": "Holiday for two weeks"})
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["status_reason"] == "Holiday for two weeks"
    assert _post(clinic, "ada", f"{url}/pause", {"reason": "again"}).status_code == 409
    refused = book(clinic, course, local_at(monday_ahead(), 9))
    assert refused.status_code == 409
    assert "the course is paused" in refused.json()["reasons"]

    assert _post(clinic, "ada", f"{url}/resume", {"reason": "Back"}).json()["status"] == "active"
    assert book(clinic, course, local_at(monday_ahead(), 9)).status_code == 201

    ended = _post(clinic, "ada", f"{url}/end", {"reason": "Remission"})
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended" and ended.json()["ended_at"]
    # Its booked sessions free their chairs.
    assert Session.objects.get().status == SessionStatus.CANCELLED
    assert _post(clinic, "ada", f"{url}/resume", {"reason": "x"}).status_code == 409
    actions = list(
        AuditEvent.objects.filter(object_type="Course", object_id=str(course.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["C", "U", "U", "U"]


def test_the_phase_moves_to_maintenance_with_a_reason(clinic: Clinic, course: Course) -> None:
    url = f"/api/v1/courses/{course.pk}/phase"
    response = _post(clinic, "ada", url, {"phase": "maintenance", "reason": "Response at 6"})
    assert response.status_code == 200
    assert response.json()["phase"] == "maintenance"
    assert _post(clinic, "ada", url, {"phase": "maintenance", "reason": "x"}).status_code == 409
    bad = _post(clinic, "ada", url, {"phase": "booster", "reason": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "phase"


def test_a_clinician_orders_a_dose_adjustment_with_a_rationale(
    clinic: Clinic, course: Course
) -> None:
    url = f"/api/v1/courses/{course.pk}/dose-orders"
    body = {"mg_per_kg": 0.75, "rationale": "Partial response after 3 sessions; well tolerated."}
    response = _post(clinic, "ada", url, body)
    assert response.status_code == 201
    order = DoseOrder.objects.get(pk=response.json()["id"])
    assert order.mg_per_kg is not None and str(order.mg_per_kg.normalize()) == "0.75"
    assert order.fixed_mg is None
    assert order.ordered_by == clinic.users["ada"]
    assert AuditEvent.objects.filter(object_type="DoseOrder", object_id=str(order.pk)).exists()
    fixed = _post(clinic, "ada", url, {"fixed_mg": 35, "rationale": "Cap at 35 mg."})
    assert fixed.status_code == 201 and fixed.json()["fixed_mg"] == 35.0


@pytest.mark.parametrize("username", ["dana", "ben", "cleo", "pat"])
def test_only_clinicians_order_doses(clinic: Clinic, course: Course, username: str) -> None:
    url = f"/api/v1/courses/{course.pk}/dose-orders"
    response = _post(clinic, username, url, {"mg_per_kg": 0.5, "rationale": "x"})
    assert response.status_code == 403
    assert not DoseOrder.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mg_per_kg": 0.5, "rationale": "   "}, "rationale"),
        ({"mg_per_kg": 0.5}, "rationale"),
        ({"mg_per_kg": 0.5, "fixed_mg": 30, "rationale": "x"}, "mg_per_kg"),
        ({"rationale": "x"}, "mg_per_kg"),
        ({"mg_per_kg": "0.5", "rationale": "x"}, "mg_per_kg"),
        ({"mg_per_kg": -1, "rationale": "x"}, "mg_per_kg"),
        ({"mg_per_kg": True, "rationale": "x"}, "mg_per_kg"),
        ({"fixed_mg": 30, "rationale": "x", "extra": 1}, "extra"),
    ],
)
def test_a_bad_dose_order_is_refused_with_its_field_and_nothing_stored(
    clinic: Clinic, course: Course, body: dict[str, Any], field: str
) -> None:
    response = _post(clinic, "ada", f"/api/v1/courses/{course.pk}/dose-orders", body)
    assert response.status_code == 422
    assert field in [problem["field"] for problem in response.json()["detail"]]
    assert not DoseOrder.objects.exists()


def test_courses_are_read_by_staff_and_by_their_own_patient(clinic: Clinic, course: Course) -> None:
    assert clinic.api("ben").get(f"/api/v1/courses/{course.pk}").status_code == 200
    assert clinic.api("pat").get(f"/api/v1/courses/{course.pk}").status_code == 200
    assert clinic.api("quinn").get(f"/api/v1/courses/{course.pk}").status_code == 404
    assert clinic.api("ben").get("/api/v1/courses/not-a-uuid").status_code == 404
    listed = clinic.api("pat").get(f"/api/v1/patients/{clinic.pat.pk}/courses").json()
    assert [row["id"] for row in listed] == [str(course.pk)]
    assert AuditEvent.objects.filter(object_type="Course", action="R").count() == 3


def test_the_patient_page_links_to_the_course_page(clinic: Clinic, course: Course) -> None:
    detail = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert f"/courses/patients/{clinic.pat.pk}/" in detail
    page = clinic.client("ada").get(f"/courses/patients/{clinic.pat.pk}/")
    assert page.status_code == 200
    assert "IV racemic ketamine 0.5 mg/kg over 40 minutes (version 1)" in page.content.decode()
    assert clinic.client("quinn").get(f"/courses/patients/{clinic.pat.pk}/").status_code == 404
    assert course.status == CourseStatus.ACTIVE
