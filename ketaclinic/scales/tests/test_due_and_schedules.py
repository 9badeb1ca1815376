"""Schedules made by staff, and the clinic's list of due and overdue questionnaires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.scales import schedules
from ketaclinic.scales.models import ScaleSchedule
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic, make_patient


def test_staff_add_a_schedule_for_a_patient(clinic: Clinic) -> None:
    response = clinic.client("ben").post(
        f"/scales/patients/{clinic.pat.pk}/schedules/",
        {
            "schedule-instrument": "gad7",
            "schedule-rule_kind": "weekly",
            "schedule-interval_days": "",
            "schedule-grace_days": "2",
            "schedule-phase": "induction",
            "schedule-starts_on": "2026-03-02",
        },
    )
    assert response.status_code == 302
    schedule = ScaleSchedule.objects.get()
    assert (schedule.patient_id, schedule.instrument, schedule.rule_kind, schedule.phase) == (
        clinic.pat.pk,
        "gad7",
        "weekly",
        "induction",
    )
    assert schedule.created_by == clinic.users["ben"]
    assert AuditEvent.objects.filter(object_type="ScaleSchedule").exists()
    page = clinic.client("ben").get(f"/scales/patients/{clinic.pat.pk}/")
    assert "Weekly" in page.content.decode()


def test_a_custom_interval_needs_its_days(clinic: Clinic) -> None:
    response = clinic.client("ben").post(
        f"/scales/patients/{clinic.pat.pk}/schedules/",
        {
            "schedule-instrument": "phq9",
            "schedule-rule_kind": "interval",
            "schedule-grace_days": "2",
            "schedule-phase": "any",
            "schedule-starts_on": "2026-03-02",
        },
    )
    assert response.status_code == 422
    assert 'id="id_schedule-interval_days_errors"' in response.content.decode()
    assert not ScaleSchedule.objects.exists()


def _schedule(clinic: Clinic, patient: Any, code: str, kind: str, **extra: Any) -> ScaleSchedule:
    return schedules.schedule_create(
        acting_user=clinic.users["ben"],
        patient=patient,
        instrument_code=code,
        rule_kind=kind,
        starts_on=extra.pop("starts_on", timezone.localdate() - timedelta(days=30)),
        **extra,
    )


def _answer(clinic: Clinic, patient: Any, code: str, days_ago: int) -> None:
    count = {"gad7": 7, "phq9": 9}[code]
    administration_record(
        acting_user=clinic.users["ben"],
        patient=patient,
        instrument_code=code,
        answers={str(n): 0 for n in range(1, count + 1)},
        administered_at=timezone.now() - timedelta(days=days_ago),
    )


def test_the_due_page_lists_due_and_overdue_questionnaires(clinic: Clinic) -> None:
    _schedule(clinic, clinic.pat, "gad7", "weekly")
    _answer(clinic, clinic.pat, "gad7", days_ago=8)  # due yesterday: due
    _schedule(clinic, clinic.quinn, "phq9", "monthly")  # never answered: overdue
    _schedule(clinic, clinic.quinn, "gad7", "weekly")
    _answer(clinic, clinic.quinn, "gad7", days_ago=1)  # not due

    response = clinic.client("ben").get("/scales/due/")
    html = response.content.decode()
    assert response.status_code == 200
    rows = schedules.due_list_for_user(clinic.users["ben"])
    assert [(r.patient.pk, r.schedule.instrument, r.item.status) for r in rows] == [
        (clinic.quinn.pk, "phq9", "overdue"),
        (clinic.pat.pk, "gad7", "due"),
    ]
    assert html.index("Sample, Quinn") < html.index("Example, Pat")
    assert "Overdue" in html and "Due" in html
    assert AuditEvent.objects.filter(
        action="R", object_type="Patient", patient_id=clinic.quinn.pk
    ).exists()


def test_before_infusion_schedules_use_the_booked_sessions(clinic: Clinic) -> None:
    _schedule(clinic, clinic.pat, "gad7", "before_infusion", interval_days=3)
    tomorrow = timezone.now() + timedelta(days=1)
    session_make(clinic, start=tomorrow)
    cancelled = session_make(clinic, start=timezone.now() + timedelta(days=2))
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)

    rows = schedules.due_list_for_user(clinic.users["ben"])
    assert [(r.item.status, r.item.infusion_on) for r in rows] == [
        ("due", timezone.localdate(tomorrow))
    ]
    _answer(clinic, clinic.pat, "gad7", days_ago=0)
    assert schedules.due_list_for_user(clinic.users["ben"]) == []


def test_the_due_page_takes_a_fixed_number_of_queries(
    clinic: Clinic, django_assert_max_num_queries: Any
) -> None:
    client = clinic.client("ben")
    for n in range(12):
        patient = make_patient(given_name=f"Due{n}", family_name="Patient")
        _schedule(clinic, patient, "gad7", "weekly")
        _schedule(clinic, patient, "phq9", "interval", interval_days=14)
        _answer(clinic, patient, "gad7", days_ago=n)
    client.get("/scales/due/")  # warm the session and caches
    with django_assert_max_num_queries(14):
        response = client.get("/scales/due/")
    assert response.status_code == 200
    assert response.content.decode().count('<tr class="due-') >= 12


@pytest.mark.parametrize("user", ["pat", None])
def test_the_due_page_is_for_staff(clinic: Clinic, user: str | None) -> None:
    response = clinic.client(user).get("/scales/due/")
    assert response.status_code == (403 if user else 302)


def test_a_schedule_starting_later_is_not_due(clinic: Clinic) -> None:
    _schedule(
        clinic, clinic.pat, "gad7", "weekly", starts_on=timezone.localdate() + timedelta(days=3)
    )
    assert schedules.due_list_for_user(clinic.users["ben"]) == []
