"""The administration service and the list endpoints at their edges: who may write, what a
moment must be, a failing mail server, and query counts that do not grow with the rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.patients.models import SafetyFlag
from ketaclinic.scales import services
from ketaclinic.scales.models import Administration, Notification
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic

PHQ9_ITEM9 = {**{str(n): 0 for n in range(1, 9)}, "9": 2}


def record(clinic: Clinic, username: str = "ben", **overrides: Any) -> Administration:
    fields: dict[str, Any] = {
        "acting_user": clinic.users[username],
        "patient": clinic.pat,
        "instrument_code": "phq9",
        "answers": {str(n): 0 for n in range(1, 10)},
        "administered_at": timezone.now() - timedelta(minutes=10),
        "mode": "staff_entry",
    }
    fields.update(overrides)
    return administration_record(**fields)


@pytest.mark.parametrize(
    ("username", "overrides"),
    [
        ("quinn", {"mode": "patient_self"}),  # another patient's record
        ("pat", {"mode": "staff_entry"}),  # not as staff
        ("pat", {"mode": "kiosk"}),
        (
            "pat",  # not a clinician-rated scale
            {
                "mode": "patient_self",
                "instrument_code": "hama",
                "answers": {str(n): 0 for n in range(1, 15)},
            },
        ),
    ],
)
def test_patients_record_only_their_own_self_report(
    clinic: Clinic, username: str, overrides: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        record(clinic, username, **overrides)
    assert not Administration.objects.exists()


def test_a_patient_records_their_own_self_report(clinic: Clinic) -> None:
    administration = record(clinic, "pat", mode="patient_self")
    assert (administration.patient, administration.mode) == (clinic.pat, "patient_self")
    assert administration.entered_by == clinic.users["pat"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"administered_at": datetime(2026, 1, 5, 9, 30)}, "administered_at"),  # noqa: DTZ001
        ({"instrument_code": "phq10"}, "instrument"),
        ({"mode": "telepathy"}, "mode"),
        ({"answers": {"1": 0}}, "answers.2"),
    ],
)
def test_service_refuses_with_field_paths(
    clinic: Clinic, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        record(clinic, **overrides)
    assert field in caught.value.message_dict
    assert not Administration.objects.exists()


def test_a_few_minutes_of_clock_skew_is_accepted(clinic: Clinic) -> None:
    soon = timezone.now() + services.CLOCK_SKEW - timedelta(seconds=30)
    assert record(clinic, administered_at=soon).total == 0


def test_a_failing_mail_server_keeps_the_flag_and_the_inbox(
    clinic: Clinic,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = clinic.users["ada"]
    ada.email = "ada@clinic.example"
    ada.save(update_fields=["email"])

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(services, "send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        record(clinic, answers=PHQ9_ITEM9)
    assert SafetyFlag.objects.filter(patient=clinic.pat, status="active").count() == 1
    assert Notification.objects.filter(user=ada).count() == 1
    assert mail.outbox == []


def test_inactive_clinicians_are_not_told(
    clinic: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    ada = clinic.users["ada"]
    ada.is_active = False
    ada.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        record(clinic, answers=PHQ9_ITEM9)
    assert not Notification.objects.exists()


def test_list_endpoints_do_not_query_per_row(clinic: Clinic) -> None:
    client = clinic.api("ada")
    flags_url = f"/api/v1/patients/{clinic.pat.pk}/flags?status=all"
    administrations_url = f"/api/v1/patients/{clinic.pat.pk}/administrations"

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    # Two rows of each to begin with: on PostgreSQL one audited read is one statement, several
    # are two (audit.services), the same for 2 or 200.
    record(clinic, answers=PHQ9_ITEM9)
    record(clinic)
    SafetyFlag.objects.create(patient=clinic.pat, code="concern_0", title="concern_0")
    one = (queries(flags_url), queries(administrations_url))
    for code in ("concern_a", "concern_b", "concern_c"):
        SafetyFlag.objects.create(patient=clinic.pat, code=code, title=code)
    for _ in range(5):
        record(clinic)
    assert (queries(flags_url), queries(administrations_url)) == one
