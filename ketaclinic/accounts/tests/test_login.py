"""Login: Argon2, TOTP required for admins and clinicians, throttling, idle sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketaclinic.testing import PASSWORD, Clinic, totp_now

LOGIN = "/account/login/"


def _password_step(client: Client, username: str, password: str = PASSWORD) -> Any:
    response = client.post(
        LOGIN,
        {
            "login_view-current_step": "auth",
            "auth-username": username,
            "auth-password": password,
        },
    )
    return response


def test_passwords_are_hashed_with_argon2(clinic: Clinic) -> None:
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert clinic.users["ben"].password.startswith("argon2$")


def test_clinician_logs_in_with_password_and_totp(clinic: Clinic) -> None:
    client = Client()
    response = _password_step(client, "ada")
    assert response.status_code == 200  # the token step
    response = client.post(
        LOGIN,
        {"login_view-current_step": "token", "token-otp_token": totp_now(clinic.totp["ada"])},
    )
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200


def test_clinician_with_a_wrong_totp_code_is_not_logged_in(clinic: Clinic) -> None:
    client = Client()
    _password_step(client, "ada")
    good = totp_now(clinic.totp["ada"])
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(LOGIN, {"login_view-current_step": "token", "token-otp_token": bad})
    assert response.status_code == 200
    assert client.get("/patients/").status_code == 302


def test_clinician_without_a_second_factor_is_sent_to_enrol(clinic: Clinic) -> None:
    clinic.totp["ada"].delete()
    client = Client()
    client.force_login(clinic.users["ada"])
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor:setup")
    # and the API refuses the unverified session too
    assert client.get("/api/v1/patients").status_code == 401


def test_nurse_may_log_in_with_password_only(clinic: Clinic) -> None:
    client = Client()
    response = _password_step(client, "ben")
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200


def test_repeated_failures_lock_the_login(clinic: Clinic) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, "ben", "wrong-password")
    response = _password_step(client, "ben")  # right password, but locked now
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert client.get("/patients/").status_code == 302


def test_sessions_end_after_the_idle_time() -> None:
    assert settings.SESSION_IDLE_MINUTES == 15
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_clinicians_may_not_turn_two_factor_off(clinic: Clinic) -> None:
    client = clinic.client("ada")
    response = client.post("/account/two_factor/disable/", {"understand": "on"})
    assert response.status_code == 403
    assert clinic.totp["ada"].__class__.objects.filter(user=clinic.users["ada"]).exists()


def test_an_idle_session_is_logged_out(clinic: Clinic) -> None:
    client = clinic.client("ben")
    assert client.get("/patients/").status_code == 200
    # Each request pushes the expiry SESSION_IDLE_MINUTES ahead; idling past it ends the session.
    row = Session.objects.get(session_key=client.session.session_key)
    remaining = row.expire_date - timezone.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/patients/")
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]
