"""A public self-screen's PHQ-9 item 9 answer reaches the patient record when its inquiry is
converted: the flag is opened there (attributed to the self-screen, dated when the person
answered, clinicians told), and such an inquiry comes first in "New" on the intake board."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.intake.models import Inquiry, InquiryStatus
from ketaclinic.intake.self_screen import self_screen_score
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.scales.models import Notification
from ketaclinic.testing import Clinic

BOARD = "/intake/inquiries/"
PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 2}
PHQ9_CALM = dict(PHQ9_ITEM9, **{"9": 0})
GAD7 = {str(n): 1 for n in range(1, 8)}
TAKEN_AT = datetime(2026, 3, 2, 21, 15, tzinfo=UTC)
CONVERSION = {
    "given_name": "Robin",
    "family_name": "Asker",
    "birth_date": "1991-03-04",
    "sex_at_birth": "female",
}


def _record(code: str, answers: dict[str, int], taken_at: datetime | None) -> dict[str, Any]:
    return replace(self_screen_score(code, answers), taken_at=taken_at).as_record()


def _inquiry(
    name: str, screens: list[dict[str, Any]], *, created_at: datetime | None = None, **extra: Any
) -> Inquiry:
    inquiry = Inquiry.objects.create(
        name=name,
        email=f"{name.split()[0].lower()}@example.org",
        consent_to_contact=True,
        self_screen=screens,
        **extra,
    )
    if created_at is not None:
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=created_at)
        inquiry.refresh_from_db()
    return inquiry


def test_an_item_9_self_screen_sorts_first_in_new_even_past_the_column_limit(
    clinic: Clinic,
) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    urgent = _inquiry(
        "Una Urgent",
        [_record("gad7", GAD7, None), _record("phq9", PHQ9_ITEM9, None)],
        created_at=long_ago,
    )
    _inquiry("Old Calm", [_record("phq9", PHQ9_CALM, None)], created_at=long_ago)
    for n in range(51):
        _inquiry(f"Newer{n} Person", [])
    contacted_old = _inquiry(
        "Cato Contacted",
        [_record("phq9", PHQ9_ITEM9, None)],
        created_at=long_ago,
        status=InquiryStatus.CONTACTED,
    )
    contacted_new = _inquiry("Cleo Contacted", [], status=InquiryStatus.CONTACTED)
    response = clinic.client("cleo").get(BOARD)
    columns = {c.status: c for c in response.context["board"].columns}
    new = columns["new"].inquiries
    assert new[0] == urgent
    assert columns["new"].count == 53
    assert len(new) == 50
    assert new[1].name == "Newer50 Person"  # the rest newest first
    # Only "New" is reordered: later columns stay newest first.
    assert columns["contacted"].inquiries == [contacted_new, contacted_old]
    html = response.content.decode()
    column = html[html.index('id="column-new"') :]
    assert column.index("Una Urgent") < column.index("Newer50 Person")


def test_conversion_opens_the_self_screen_flag_dated_when_the_person_answered(
    clinic: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    inquiry = _inquiry(
        "Robin Asker",
        [_record("gad7", GAD7, TAKEN_AT), _record("phq9", PHQ9_ITEM9, TAKEN_AT)],
        created_at=TAKEN_AT + timedelta(minutes=20),
    )
    client = clinic.client("cleo")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/intake/inquiries/{inquiry.pk}/convert/", CONVERSION)
    assert response.status_code == 302
    patient = Patient.objects.get(family_name="Asker")
    flag = SafetyFlag.objects.get(patient=patient)
    assert (flag.code, flag.severity, flag.status) == ("suicide_risk", "urgent", "active")
    assert (flag.source_object_type, flag.source_object_id) == ("Inquiry", str(inquiry.pk))
    assert flag.opened_at == TAKEN_AT  # the self-screen's date, not the conversion's
    assert "self-screen" in flag.title
    assert AuditEvent.objects.filter(
        action="C", object_type="SafetyFlag", object_id=str(flag.pk), patient_id=patient.pk
    ).exists()
    ada = clinic.users["ada"]
    assert Notification.objects.filter(user=ada, link=f"/patients/{patient.pk}/").exists()

    page = clinic.client("ben").get(f"/patients/{patient.pk}/").content.decode()
    assert "No open safety flags" not in page
    assert flag.title in page
    assert "from the public self-screen" in page
    assert f"answered {timezone.localtime(TAKEN_AT):%Y-%m-%d}" in page


def test_a_screen_without_its_own_date_takes_the_inquiry_date(clinic: Clinic) -> None:
    sent = timezone.now() - timedelta(days=3)
    inquiry = _inquiry("Robin Asker", [_record("phq9", PHQ9_ITEM9, None)], created_at=sent)
    clinic.client("cleo").post(f"/intake/inquiries/{inquiry.pk}/convert/", CONVERSION)
    flag = SafetyFlag.objects.get(patient__family_name="Asker")
    assert flag.opened_at == sent


def test_conversion_of_a_calm_self_screen_opens_no_flag(clinic: Clinic) -> None:
    inquiry = _inquiry("Robin Asker", [_record("phq9", PHQ9_CALM, TAKEN_AT)])
    clinic.client("cleo").post(f"/intake/inquiries/{inquiry.pk}/convert/", CONVERSION)
    assert Patient.objects.filter(family_name="Asker").exists()
    assert not SafetyFlag.objects.exists()


def test_conversion_does_not_open_a_second_active_flag(clinic: Clinic) -> None:
    from ketaclinic.intake import services as pipeline_services

    patient_fields = {
        "given_name": "Robin",
        "family_name": "Asker",
        "birth_date": datetime(1991, 3, 4, tzinfo=UTC).date(),
        "sex_at_birth": "female",
    }
    inquiry = _inquiry("Robin Asker", [_record("phq9", PHQ9_ITEM9, TAKEN_AT)])
    patient = pipeline_services.inquiry_convert(
        acting_user=clinic.users["cleo"], inquiry=inquiry, **patient_fields
    )
    assert SafetyFlag.objects.filter(patient=patient, status=FlagStatus.ACTIVE).count() == 1


def test_the_public_site_keeps_when_the_self_screen_was_answered(clinic: Clinic) -> None:
    """Self-screen -> result page token -> inquiry: the stored record has the result's date."""
    client = Client()
    data: dict[str, Any] = {"step": "answer", "instruments": ["phq9"]}
    data |= {f"phq9-{k}": str(v) for k, v in PHQ9_ITEM9.items()}
    before = timezone.now()
    result = client.post("/clinic/self-screen/", data).content.decode()
    token = result.split('name="self_screen_token" value="', 1)[1].split('"', 1)[0]
    body = {
        "name": "Sam Screened",
        "email": "sam@example.org",
        "preferred_contact": "email",
        "consent_to_contact": "on",
        "self_screen_token": token,
        "attach_self_screen": "on",
    }
    assert client.post("/clinic/inquiry/", body).status_code == 302
    stored = Inquiry.objects.get(name="Sam Screened")
    taken_at = datetime.fromisoformat(stored.self_screen[0]["taken_at"])
    assert before <= taken_at <= stored.created_at
    assert stored.self_screen[0]["item9_positive"] is True
