"""Patient accounts: staff invite a patient by e-mail; the single-use, expiring link sets a
password and signs the patient in to the portal; TOTP is optional for patients (required for
clinicians and administrators as before); password reset and sign-out work for patients."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.portal.models import PatientInvitation
from ketaclinic.testing import Clinic, make_patient

NEW_PASSWORD = "a-long-synthetic-passphrase-42"


@pytest.fixture
def robin(clinic: Clinic) -> Patient:
    return make_patient(
        given_name="Robin", family_name="Invitee", email="Robin@Example.org", phone="555-0150"
    )


def _invite(clinic: Clinic, patient: Patient, who: str = "cleo", **kwargs: Any) -> Any:
    # The e-mail goes after commit; the test's transaction never commits, so run the callbacks.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return clinic.client(who).post(f"/portal/invite/{patient.pk}/", **kwargs)


def _sign_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(
        "/account/login/",
        {
            "login_view-current_step": "auth",
            "auth-username": username,
            "auth-password": password,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def _link(message: Any) -> str:
    found = re.search(r"http://testserver(/portal/welcome/\S+/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def _accept(client: Client, link: str, password: str = NEW_PASSWORD) -> Any:
    landing = client.get(link)
    assert landing.status_code == 302  # the token leaves the address bar at once
    assert "set-password" in landing["Location"]
    return client.post(landing["Location"], {"new_password1": password, "new_password2": password})


@pytest.mark.parametrize("who", ["cleo", "ada", "dana"])
def test_staff_invite_sends_a_link_without_clinical_content(
    clinic: Clinic, robin: Patient, who: str
) -> None:
    response = _invite(clinic, robin, who)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["robin@example.org"]
    text = (str(message.subject) + str(message.body)).lower()
    for word in ("ketamine", "infusion", "anxiety", "robin", "invitee", robin.mrn.lower(), "gad"):
        assert word not in text, word
    assert "works once" in text
    invitation = PatientInvitation.objects.get(patient=robin)
    assert invitation.user.role == "patient"
    assert not invitation.user.has_usable_password()
    assert str(robin.pk) not in _link(message)


@pytest.mark.parametrize("who", ["ben", "pat"])
def test_nurses_and_patients_cannot_invite(clinic: Clinic, robin: Patient, who: str) -> None:
    assert _invite(clinic, robin, who).status_code == 403
    assert mail.outbox == []
    assert not PatientInvitation.objects.exists()


def test_link_sets_a_password_once_and_opens_the_portal(clinic: Clinic, robin: Patient) -> None:
    _invite(clinic, robin)
    link = _link(mail.outbox[0])
    client = Client()
    done = _accept(client, link)
    assert done.status_code == 302
    assert done["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "Hello, Robin" in home.content.decode()
    # The same link again: gone, and the password is unchanged.
    again = Client()
    assert _accept(again, link, "another-long-passphrase-77").status_code == 410
    account = User.objects.get(patient=robin)
    assert account.check_password(NEW_PASSWORD)
    # The patient signs in with the e-mail address and the new password, no second factor.
    fresh = _sign_in("robin@example.org", NEW_PASSWORD)
    assert fresh.get("/").status_code == 302
    assert fresh.get("/")["Location"] == "/portal/"
    assert fresh.get("/portal/").status_code == 200


def test_a_weak_password_is_refused_and_the_link_still_works(
    clinic: Clinic, robin: Patient
) -> None:
    _invite(clinic, robin)
    link = _link(mail.outbox[0])
    client = Client()
    assert _accept(client, link, "password").status_code == 422
    assert PatientInvitation.objects.get().accepted_at is None
    assert _accept(client, link).status_code == 302


def test_expired_or_replaced_links_do_not_work(clinic: Clinic, robin: Patient) -> None:
    _invite(clinic, robin)
    first = _link(mail.outbox[0])
    _invite(clinic, robin)
    second = _link(mail.outbox[1])
    assert _accept(Client(), first).status_code == 410  # replaced by the newer one
    PatientInvitation.objects.filter(revoked_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert _accept(Client(), second).status_code == 410  # expired
    assert not User.objects.get(patient=robin).has_usable_password()


def test_a_tampered_token_does_not_work(clinic: Clinic, robin: Patient) -> None:
    _invite(clinic, robin)
    link = _link(mail.outbox[0])
    broken = link[:-3] + ("x" if link[-3] != "x" else "y") + link[-2:]
    assert _accept(Client(), broken).status_code == 410
    assert Client().get("/portal/welcome/").status_code == 410


def test_invitation_and_acceptance_are_audited(clinic: Clinic, robin: Patient) -> None:
    _invite(clinic, robin)
    _accept(Client(), _link(mail.outbox[0]))
    invitation = PatientInvitation.objects.get()
    events = AuditEvent.objects.filter(object_type="PatientInvitation", object_id=invitation.pk)
    assert [(e.action, e.actor_id) for e in events.order_by("seq")] == [
        (Action.CREATE, clinic.users["cleo"].pk),
        (Action.UPDATE, invitation.user_id),
    ]
    assert {e.patient_id for e in events} == {robin.pk}


def test_a_patient_with_an_account_is_not_invited_again(clinic: Clinic) -> None:
    response = _invite(clinic, clinic.pat, follow=True)
    assert "already has a portal account" in response.content.decode()
    assert mail.outbox == []


def test_a_patient_without_an_email_is_not_invited(clinic: Clinic) -> None:
    patient = make_patient(given_name="Noemail", email="")
    response = _invite(clinic, patient, follow=True)
    assert "e-mail address" in response.content.decode()
    assert mail.outbox == []


def test_staff_page_shows_the_portal_card_and_invite_button(clinic: Clinic, robin: Patient) -> None:
    page = clinic.client("cleo").get(f"/patients/{robin.pk}/").content.decode()
    assert "Invite to the portal" in page
    _invite(clinic, robin)
    page = clinic.client("cleo").get(f"/patients/{robin.pk}/").content.decode()
    assert "not accepted yet" in page
    nurse_page = clinic.client("ben").get(f"/patients/{robin.pk}/").content.decode()
    assert "Patient portal" in nurse_page
    assert "Invite to the portal" not in nurse_page


def test_totp_is_optional_for_patients_and_required_for_clinicians(clinic: Clinic) -> None:
    patient = clinic.client("pat")
    assert not TOTPDevice.objects.filter(user=clinic.users["pat"]).exists()
    assert patient.get("/portal/").status_code == 200
    clinician = Client()
    clinician.force_login(clinic.users["ada"])  # no verified second factor in this session
    response = clinician.get("/patients/")
    assert response.status_code == 302
    assert "/account/" in response["Location"]


def test_password_reset_by_email_for_a_patient(clinic: Clinic) -> None:
    User.objects.filter(pk=clinic.users["pat"].pk).update(email="pat@example.org")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client().post("/account/password/reset/", {"email": "pat@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    found = re.search(r"(/account/password/reset/\S+/\S+/)", str(mail.outbox[0].body))
    assert found
    client = Client()
    form_page = client.get(found.group(1))
    assert form_page.status_code == 302
    done = client.post(
        form_page["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    _sign_in("pat", NEW_PASSWORD)


def test_sign_out_from_the_portal(clinic: Clinic) -> None:
    client = clinic.client("pat")
    page = client.get("/portal/").content.decode()
    assert 'action="/logout/"' in page
    assert client.post("/logout/").status_code == 302
    assert client.get("/portal/").status_code == 302  # to the sign-in page
