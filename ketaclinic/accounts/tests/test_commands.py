"""adduser and apitoken, through the `ketaclinic` console script's commands."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.models import ApiToken, User, token_hash
from ketaclinic.accounts.services import apitoken_revoke
from ketaclinic.testing import Clinic, make_patient

STRONG = "a-long-synthetic-passphrase"


def test_adduser_takes_the_password_from_the_environment(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETACLINIC_PASSWORD", STRONG)
    call_command(
        "adduser", "nina", "--role", "nurse", "--email", "nina@example.org", stdout=StringIO()
    )
    user = User.objects.get(username="nina")
    assert user.role == "nurse"
    assert user.check_password(STRONG)
    assert user.password.startswith("argon2")


def test_adduser_links_a_patient_user_to_their_record(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETACLINIC_PASSWORD", STRONG)
    patient = make_patient()
    call_command(
        "adduser", "patty", "--role", "patient", "--patient-id", str(patient.pk), stdout=StringIO()
    )
    assert User.objects.get(username="patty").patient == patient


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "patient"], "needs --patient-id"),
        (["--role", "nurse", "--patient-id", "not-a-uuid"], "no patient"),
        (["--role", "nurse", "--patient-id", "00000000-0000-0000-0000-000000000000"], "no patient"),
    ],
)
def test_adduser_refuses_bad_links(
    db: None, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("KETACLINIC_PASSWORD", STRONG)
    with pytest.raises(CommandError, match=message):
        call_command("adduser", "someone", *args, stdout=StringIO())
    assert not User.objects.filter(username="someone").exists()


def test_adduser_refuses_a_weak_password(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETACLINIC_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        call_command("adduser", "weak", "--role", "intake", stdout=StringIO())
    assert not User.objects.filter(username="weak").exists()


def test_adduser_refuses_an_existing_username(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETACLINIC_PASSWORD", STRONG)
    with pytest.raises(CommandError, match="exists"):
        call_command("adduser", "ada", "--role", "nurse", stdout=StringIO())


def test_apitoken_prints_a_working_token_last_and_stores_only_its_hash(clinic: Clinic) -> None:
    out = StringIO()
    call_command("apitoken", "ben", "--days", "7", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    row = ApiToken.objects.get(user=clinic.users["ben"])
    assert row.token_hash == token_hash(raw)
    assert raw not in {row.prefix, row.token_hash}
    assert timedelta(days=6) < row.expires_at - timezone.now() <= timedelta(days=7)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/patients").status_code == 200


def test_expired_and_revoked_tokens_are_refused(clinic: Clinic) -> None:
    raw = clinic.token("ben")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/patients").status_code == 200
    row = ApiToken.objects.get(token_hash=token_hash(raw))
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/patients").status_code == 401
    raw2 = clinic.token("ben")
    apitoken_revoke(token=ApiToken.objects.get(token_hash=token_hash(raw2)))
    client2 = Client(HTTP_AUTHORIZATION=f"Bearer {raw2}")
    assert client2.get("/api/v1/patients").status_code == 401
    garbage = Client(HTTP_AUTHORIZATION="Bearer kc_" + "x" * 5000)
    assert garbage.get("/api/v1/patients").status_code == 401


def test_apitoken_refuses_unknown_users_and_silly_lifetimes(clinic: Clinic) -> None:
    with pytest.raises(CommandError, match="no active user"):
        call_command("apitoken", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="between 1 and 3650"):
        call_command("apitoken", "ben", "--days", "0", stdout=StringIO())
