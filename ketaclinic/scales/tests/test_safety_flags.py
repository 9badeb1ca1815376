"""Safety flags raised by rating scales: opened once, shown in the banner and the API,
clinicians told without the patient's name; acknowledged only by a clinician, with a note."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.scales.models import Administration, Notification
from ketaclinic.testing import Clinic

AT = "2026-01-05T09:30:00+01:00"
NOTE = "Called the patient; safety plan reviewed, C-SSRS booked."

# PHQ-9 with item 9 answered "several days" and a total of 3.
PHQ9_ITEM9: dict[str, int] = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0}
PHQ9_ITEM9["9"] = 1

CSSRS_MODERATE = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0}
CSSRS_LOW = {"1": 1, "2": 0, "6": 0}


def post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def administer(client: Client, patient: Patient, instrument: str, answers: dict[str, Any]) -> Any:
    return post_json(
        client,
        f"/api/v1/patients/{patient.pk}/administrations",
        {
            "instrument": instrument,
            "answers": answers,
            "administered_at": AT,
            "mode": "staff_entry",
        },
    )


def flags_api(client: Client, patient: Patient, status: str = "active") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/patients/{patient.pk}/flags", {"status": status})
    assert response.status_code == 200, response.content
    rows: list[dict[str, Any]] = response.json()
    return rows


def banner(clinic: Clinic, patient: Patient) -> str:
    response = clinic.client("ben").get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    start = content.index('class="patient-banner"')
    return content[start : content.index("</section>", start)]


@pytest.fixture
def ada_with_email(clinic: Clinic) -> Clinic:
    ada = clinic.users["ada"]
    ada.email = "ada@clinic.example"
    ada.save(update_fields=["email"])
    return clinic


def test_phq9_item_9_opens_one_flag_in_banner_api_mail_and_inbox(
    ada_with_email: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    clinic = ada_with_email
    with django_capture_on_commit_callbacks(execute=True):
        response = administer(clinic.api("ben"), clinic.pat, "phq9", PHQ9_ITEM9)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == 3
    assert body["band"] == "none-minimal"
    assert [flag["code"] for flag in body["flags"]] == ["suicide_risk"]

    flag = SafetyFlag.objects.get(patient=clinic.pat)
    assert (flag.code, flag.status) == ("suicide_risk", FlagStatus.ACTIVE)
    assert flag.title == "Suicide risk (PHQ-9 item 9)"
    assert flag.source_object_type == "Administration"
    assert flag.source_object_id == body["id"]
    assert "Suicide risk (PHQ-9 item 9)" in banner(clinic, clinic.pat)
    assert [row["id"] for row in flags_api(clinic.api("ben"), clinic.pat)] == [flag.pk]

    names = (clinic.pat.given_name, clinic.pat.family_name, clinic.pat.mrn)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@clinic.example"]
    assert not any(name in message.subject for name in names)
    assert not any(word in message.subject.lower() for word in ("suicid", "phq", "risk"))
    assert not any(name in message.body for name in names)
    assert f"/patients/{clinic.pat.pk}/" in message.body

    notification = Notification.objects.get(user=clinic.users["ada"])
    assert notification.text == (
        "Safety flag opened: suicide risk (PHQ-9 item 9) — open the patient's record"
    )
    assert not any(name in notification.text for name in names)
    assert notification.link == f"/patients/{clinic.pat.pk}/"
    assert notification.read_at is None
    # Only clinicians are told.
    assert Notification.objects.count() == 1


def test_second_item_9_administration_does_not_duplicate_the_flag(
    ada_with_email: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    clinic = ada_with_email
    client = clinic.api("ben")
    with django_capture_on_commit_callbacks(execute=True):
        assert administer(client, clinic.pat, "phq9", PHQ9_ITEM9).status_code == 201
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert administer(client, clinic.pat, "phq9", PHQ9_ITEM9).status_code == 201

    assert Administration.objects.filter(patient=clinic.pat).count() == 2
    assert SafetyFlag.objects.filter(patient=clinic.pat).count() == 1
    assert callbacks == []  # nothing new opened, nobody told twice
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_phq9_item_9_on_another_patient_opens_their_own_flag(clinic: Clinic) -> None:
    client = clinic.api("ben")
    assert administer(client, clinic.pat, "phq9", PHQ9_ITEM9).status_code == 201
    assert administer(client, clinic.quinn, "phq9", PHQ9_ITEM9).status_code == 201
    assert SafetyFlag.objects.filter(patient=clinic.pat).count() == 1
    assert SafetyFlag.objects.filter(patient=clinic.quinn).count() == 1


def test_phq9_item_9_at_zero_opens_no_flag(clinic: Clinic) -> None:
    answers = {**PHQ9_ITEM9, "9": 0, "1": 3, "2": 3}
    response = administer(clinic.api("ben"), clinic.pat, "phq9", answers)
    assert response.status_code == 201
    assert response.json()["flags"] == []
    assert not SafetyFlag.objects.exists()
    assert "No open safety flags" in banner(clinic, clinic.pat)


def test_cssrs_moderate_opens_a_flag(
    clinic: Clinic, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = administer(clinic.api("ada"), clinic.pat, "cssrs_screener", CSSRS_MODERATE)
    assert response.status_code == 201, response.content
    assert response.json()["risk_level"] == "moderate"
    assert response.json()["total"] is None
    flag = SafetyFlag.objects.get(patient=clinic.pat)
    assert flag.code == "suicide_risk"
    assert flag.title == "Suicide risk (C-SSRS: moderate risk)"
    assert Notification.objects.filter(user=clinic.users["ada"]).count() == 1
    assert mail.outbox == []  # ada has no e-mail address in this clinic


def test_cssrs_high_opens_an_urgent_flag(clinic: Clinic) -> None:
    answers = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0, "6": 0}
    response = administer(clinic.api("ada"), clinic.pat, "cssrs_screener", answers)
    assert response.json()["risk_level"] == "high"
    assert SafetyFlag.objects.get(patient=clinic.pat).severity == "urgent"


def test_cssrs_low_opens_no_flag(clinic: Clinic) -> None:
    response = administer(clinic.api("ada"), clinic.pat, "cssrs_screener", CSSRS_LOW)
    assert response.status_code == 201, response.content
    assert response.json()["risk_level"] == "low"
    assert not SafetyFlag.objects.exists()


def test_cssrs_after_phq9_item_9_keeps_one_suicide_risk_flag(clinic: Clinic) -> None:
    client = clinic.api("ada")
    administer(client, clinic.pat, "phq9", PHQ9_ITEM9)
    administer(client, clinic.pat, "cssrs_screener", CSSRS_MODERATE)
    assert SafetyFlag.objects.filter(patient=clinic.pat, code="suicide_risk").count() == 1


# --- acknowledgement -----------------------------------------------------------------------


@pytest.fixture
def flagged(clinic: Clinic) -> SafetyFlag:
    administer(clinic.api("ben"), clinic.pat, "phq9", PHQ9_ITEM9)
    return SafetyFlag.objects.get(patient=clinic.pat)


def acknowledge(client: Client, flag: SafetyFlag, body: dict[str, Any]) -> Any:
    return post_json(
        client, f"/api/v1/patients/{flag.patient_id}/flags/{flag.pk}/acknowledge", body
    )


def test_clinician_acknowledges_with_a_note_audited_and_kept(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    response = acknowledge(clinic.api("ada"), flagged, {"note": f"  {NOTE}  "})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.ACKNOWLEDGED
    assert flagged.acknowledged_by == clinic.users["ada"]
    assert flagged.acknowledged_at is not None
    assert flagged.acknowledgement_note == NOTE
    assert AuditEvent.objects.filter(
        action="U",
        object_type="SafetyFlag",
        object_id=str(flagged.pk),
        actor=clinic.users["ada"],
        patient_id=clinic.pat.pk,
    ).exists()

    # It leaves the banner and the active list, but is kept and listed with ?status=all.
    assert "Suicide risk" not in banner(clinic, clinic.pat)
    assert flags_api(clinic.api("ada"), clinic.pat) == []
    kept = flags_api(clinic.api("ada"), clinic.pat, "all")
    assert [(row["id"], row["status"]) for row in kept] == [(flagged.pk, "acknowledged")]
    assert kept[0]["acknowledgement_note"] == NOTE
    assert [row["id"] for row in flags_api(clinic.api("ada"), clinic.pat, "acknowledged")] == [
        flagged.pk
    ]


def test_acknowledged_flag_cannot_be_acknowledged_again(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    assert acknowledge(clinic.api("ada"), flagged, {"note": NOTE}).status_code == 200
    assert acknowledge(clinic.api("ada"), flagged, {"note": "again"}).status_code == 409
    flagged.refresh_from_db()
    assert flagged.acknowledgement_note == NOTE


def test_new_concern_after_acknowledgement_opens_a_new_flag(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    acknowledge(clinic.api("ada"), flagged, {"note": NOTE})
    administer(clinic.api("ben"), clinic.pat, "phq9", PHQ9_ITEM9)
    statuses = sorted(
        SafetyFlag.objects.filter(patient=clinic.pat).values_list("status", flat=True)
    )
    assert statuses == ["acknowledged", "active"]


@pytest.mark.parametrize("username", ["ben", "dana", "cleo", "pat"])
def test_only_a_clinician_acknowledges(clinic: Clinic, flagged: SafetyFlag, username: str) -> None:
    response = acknowledge(clinic.api(username), flagged, {"note": NOTE})
    assert response.status_code == 403
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.ACTIVE


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}, {"note": None}])
def test_acknowledgement_without_a_note_is_refused(
    clinic: Clinic, flagged: SafetyFlag, body: dict[str, Any]
) -> None:
    response = acknowledge(clinic.api("ada"), flagged, body)
    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["detail"]] == ["note"]
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.ACTIVE


def test_patient_cannot_reach_another_patients_flag(clinic: Clinic) -> None:
    administer(clinic.api("ben"), clinic.quinn, "phq9", PHQ9_ITEM9)
    flag = SafetyFlag.objects.get(patient=clinic.quinn)
    assert acknowledge(clinic.api("pat"), flag, {"note": NOTE}).status_code == 404
    assert clinic.api("pat").get(f"/api/v1/patients/{clinic.quinn.pk}/flags").status_code == 404


def test_flag_of_another_patient_is_not_found_under_this_one(
    clinic: Clinic, flagged: SafetyFlag
) -> None:
    url = f"/api/v1/patients/{clinic.quinn.pk}/flags/{flagged.pk}/acknowledge"
    assert post_json(clinic.api("ada"), url, {"note": NOTE}).status_code == 404


def test_flags_list_is_an_audited_read(clinic: Clinic, flagged: SafetyFlag) -> None:
    flags_api(clinic.api("ben"), clinic.pat, "all")
    assert AuditEvent.objects.filter(
        action="R", object_type="SafetyFlag", object_id=str(flagged.pk), actor=clinic.users["ben"]
    ).exists()


def test_flags_list_refuses_an_unknown_status(clinic: Clinic) -> None:
    response = clinic.api("ben").get(f"/api/v1/patients/{clinic.pat.pk}/flags?status=closed")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "status"
