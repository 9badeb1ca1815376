"""Safety flags in the web UI: a clinician acknowledges a flag with a note from the patient's
record (the flag is kept, the write audited); other roles see no button and are refused. The
staff inbox lists a user's own notifications and marks them read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.scales.models import Notification
from ketaclinic.testing import Clinic

from .test_safety_flags import PHQ9_ITEM9, administer

NOTE = "Called the patient; safety plan reviewed, C-SSRS booked."


@pytest.fixture
def flagged(clinic: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]) -> SafetyFlag:
    """Pat's PHQ-9 with item 9 = 1: an active flag, and Dr Ada's notification."""
    with django_capture_on_commit_callbacks(execute=True):
        assert administer(clinic.api("ben"), clinic.pat, "phq9", PHQ9_ITEM9).status_code == 201
    return SafetyFlag.objects.get(patient=clinic.pat)


def detail_url(clinic: Clinic) -> str:
    return f"/patients/{clinic.pat.pk}/"


def acknowledge_url(flag: SafetyFlag) -> str:
    return f"/patients/{flag.patient_id}/flags/{flag.pk}/acknowledge/"


def banner_of(html: str) -> str:
    start = html.index('class="patient-banner"')
    return html[start : html.index("</section>", start)]


def test_a_clinician_sees_an_acknowledge_form_on_the_record(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    html = clinic.client("ada").get(detail_url(clinic)).content.decode()
    assert f'action="{acknowledge_url(flagged)}"' in html
    assert 'name="note"' in html
    assert ">Acknowledge</button>" in html


# A patient never sees the staff label (issue 12.7): web/tests/test_patient_page_safety.py.
@pytest.mark.parametrize("username", ["ben", "dana", "cleo"])
def test_other_roles_see_the_flag_without_the_button(
    clinic: Clinic, flagged: SafetyFlag, username: str
) -> None:
    html = clinic.client(username).get(detail_url(clinic)).content.decode()
    assert "Suicide risk (PHQ-9 item 9)" in banner_of(html)
    assert acknowledge_url(flagged) not in html
    assert ">Acknowledge</button>" not in html


def test_a_clinician_acknowledges_with_a_note_audited_and_kept(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    client = clinic.client("ada")
    response = client.post(acknowledge_url(flagged), {"note": f"  {NOTE}  "})

    assert response.status_code == 302
    assert response["Location"] == detail_url(clinic)
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.ACKNOWLEDGED
    assert flagged.acknowledged_by == clinic.users["ada"]
    assert flagged.acknowledgement_note == NOTE
    assert SafetyFlag.objects.filter(patient=clinic.pat).count() == 1  # kept, not deleted
    assert AuditEvent.objects.filter(
        action="U",
        object_type="SafetyFlag",
        object_id=str(flagged.pk),
        actor=clinic.users["ada"],
        patient_id=clinic.pat.pk,
    ).exists()

    html = client.get(detail_url(clinic)).content.decode()
    assert "Safety flag acknowledged." in html
    assert "Suicide risk" not in banner_of(html)
    assert "Acknowledged flags (1)" in html
    assert NOTE in html and "by ada" in html
    # The care team's note is not shown to the patient reading their own record.
    assert NOTE not in clinic.client("pat").get(detail_url(clinic)).content.decode()


@pytest.mark.parametrize("username", ["ben", "dana", "cleo", "pat", "quinn"])
def test_only_a_clinician_may_post_an_acknowledgement(
    clinic: Clinic, flagged: SafetyFlag, username: str
) -> None:
    response = clinic.client(username).post(acknowledge_url(flagged), {"note": NOTE})
    assert response.status_code == 403
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.ACTIVE
    assert not AuditEvent.objects.filter(action="U", object_type="SafetyFlag").exists()


def test_an_empty_note_is_refused_beside_the_field(clinic: Clinic, flagged: SafetyFlag) -> None:
    response = clinic.client("ada").post(acknowledge_url(flagged), {"note": "   "})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.ACTIVE


def test_a_second_acknowledgement_changes_nothing(clinic: Clinic, flagged: SafetyFlag) -> None:
    client = clinic.client("ada")
    assert client.post(acknowledge_url(flagged), {"note": NOTE}).status_code == 302
    again = client.post(acknowledge_url(flagged), {"note": "again"}, follow=True)
    assert "This flag was already acknowledged." in again.content.decode()
    flagged.refresh_from_db()
    assert flagged.acknowledgement_note == NOTE


def test_a_flag_is_not_found_under_another_patient(clinic: Clinic, flagged: SafetyFlag) -> None:
    url = f"/patients/{clinic.quinn.pk}/flags/{flagged.pk}/acknowledge/"
    assert clinic.client("ada").post(url, {"note": NOTE}).status_code == 404


# --- the inbox -----------------------------------------------------------------------------


def test_the_inbox_lists_the_clinicians_notifications_and_marks_them_read(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    client = clinic.client("ada")
    page = client.get("/scales/notifications/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "1 unread notification." in html
    assert "Safety flag opened: suicide risk (PHQ-9 item 9)" in html
    assert f'href="{detail_url(clinic)}"' in html
    assert clinic.pat.family_name not in html and clinic.pat.mrn not in html
    notification = Notification.objects.get(user=clinic.users["ada"])
    assert f'action="/scales/notifications/{notification.pk}/read/"' in html
    assert 'href="/scales/notifications/"' in html  # in the navigation

    response = client.post(f"/scales/notifications/{notification.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/scales/notifications/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    html = client.get("/scales/notifications/").content.decode()
    assert "0 unread notifications." in html and "Read " in html


def test_mark_all_read_touches_only_the_users_own(clinic: Clinic, flagged: SafetyFlag) -> None:
    Notification.objects.create(user=clinic.users["ada"], text="Second")
    Notification.objects.create(user=clinic.users["ben"], text="Ben's own")
    assert clinic.client("ada").post("/scales/notifications/read/").status_code == 302
    assert not Notification.objects.filter(user=clinic.users["ada"], read_at=None).exists()
    assert Notification.objects.get(user=clinic.users["ben"]).read_at is None


def test_another_users_notification_is_not_found(clinic: Clinic, flagged: SafetyFlag) -> None:
    notification = Notification.objects.get(user=clinic.users["ada"])
    response = clinic.client("ben").post(f"/scales/notifications/{notification.pk}/read/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None
    assert "suicide risk" not in clinic.client("ben").get("/scales/notifications/").content.decode()


def test_the_notification_email_points_to_the_inbox(
    clinic: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    ada = clinic.users["ada"]
    ada.email = "ada@clinic.example"
    ada.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        administer(clinic.api("ben"), clinic.pat, "phq9", PHQ9_ITEM9)
    (message,) = mail.outbox
    assert "/scales/notifications/" in message.body


def test_patients_have_no_inbox(clinic: Clinic) -> None:
    assert clinic.client("pat").get("/scales/notifications/").status_code == 403
