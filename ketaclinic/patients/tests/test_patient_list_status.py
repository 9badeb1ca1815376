"""The patient list's flags, status and next session: an urgent suicide-risk flag stands out,
each status is named in words, and the page's queries do not grow with the patients or their
histories."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.courses.tests.conftest import shipped_rows_ensure
from ketaclinic.eligibility.tests.eligibility_helpers import decision_make
from ketaclinic.eligibility.tests.eligibility_helpers import (
    shipped_rows_ensure as rules_ensure,
)
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.patients.models import Patient, SafetyFlag
from ketaclinic.testing import Clinic


def _row(html: str, name: str) -> str:
    match = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(name)}(?:(?!</tr>).)*</tr>", html, re.S)
    assert match, name
    return match.group(0)


def _with_history(clinic: Clinic, patient: Patient, done: int, protocol: Protocol) -> Course:
    course = Course.objects.create(
        patient=patient, protocol=protocol, started_by=clinic.users["ada"]
    )
    chair, _ = Chair.objects.get_or_create(name="Chair 1")
    start = timezone.now() - timedelta(days=30)
    for n in range(done):
        Session.objects.create(
            course=course,
            chair=chair,
            phase="induction",
            start=start + timedelta(days=2 * n),
            chair_until=start + timedelta(days=2 * n, hours=2),
            status="signed",
            created_by=clinic.users["ben"],
        )
    Session.objects.create(
        course=course,
        chair=chair,
        phase="induction",
        start=timezone.now() + timedelta(days=3),
        chair_until=timezone.now() + timedelta(days=3, hours=2),
        created_by=clinic.users["ben"],
    )
    return course


def test_an_urgent_flag_status_and_next_session_show_in_the_list(clinic: Clinic) -> None:
    shipped_rows_ensure()
    rules_ensure()
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    SafetyFlag.objects.create(
        patient=clinic.quinn,
        code="suicide_risk",
        title="Suicide risk (PHQ-9 item 9)",
        severity="urgent",
    )
    _with_history(clinic, clinic.pat, 2, protocol)
    html = clinic.client("cleo").get("/patients/").content.decode()

    quinn = _row(html, "Sample, Quinn")
    assert 'class="row-urgent"' in quinn
    assert "Urgent: Suicide risk (PHQ-9 item 9)" in quinn
    assert "Inquiry" in quinn

    pat = _row(html, "Example, Pat")
    assert "row-urgent" not in pat
    assert "In course 2/6" in pat
    next_start = timezone.localtime(Session.objects.get(status="scheduled").start)
    assert f"{next_start:%a %Y-%m-%d %H:%M}" in pat


def test_eligible_evaluated_and_discharged_are_named(clinic: Clinic) -> None:
    shipped_rows_ensure()
    rules_ensure()
    decision_make(clinic, clinic.pat, "eligible")
    decision_make(clinic, clinic.quinn, "deferred", "Waiting for records")
    html = clinic.client("ben").get("/patients/").content.decode()
    assert "Eligible" in _row(html, "Example, Pat")
    assert "Evaluated" in _row(html, "Sample, Quinn")
    protocol = Protocol.objects.filter(active=True).first()
    assert protocol is not None
    Course.objects.create(
        patient=clinic.quinn, protocol=protocol, started_by=clinic.users["ada"], status="ended"
    )
    html = clinic.client("ben").get("/patients/").content.decode()
    assert "Discharged" in _row(html, "Sample, Quinn")


def test_the_lists_queries_do_not_grow_with_histories(clinic: Clinic) -> None:
    shipped_rows_ensure()
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    client = clinic.client("ben")
    client.get("/patients/")
    _with_history(clinic, clinic.pat, 1, protocol)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/patients/").status_code == 200
    for i in range(12):
        patient = Patient.objects.create(
            mrn=f"H{i:05d}",
            given_name=f"H{i}",
            family_name="Hist",
            birth_date=date(1980, 1, 1),
            sex_at_birth="male",
        )
        _with_history(clinic, patient, 5, protocol)
        SafetyFlag.objects.create(patient=patient, code="x", title="Flag", severity="high")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/patients/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    # The whole request, pinned (the audit write: one statement on PostgreSQL).
    # +1: the unread-message count in the staff navigation (ketaclinic/messaging/).
    assert len(few) == {"sqlite": 16, "postgresql": 14}[connection.vendor], len(few)
