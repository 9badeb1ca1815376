"""Sign-in lockouts per username and address, the second-check form kept apart from the
colleague's own sign-in, and the administrator's audited unlock (issue 18, item 14)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from ketaclinic.accounts.lockouts import lockouts_current
from ketaclinic.accounts.second_person import SecondPersonRefused, second_person_authenticate
from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.testing import PASSWORD, Clinic

LOGIN = "/account/login/"


def _login(client: Client, username: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(
        LOGIN,
        {
            "login_view-current_step": "auth",
            "auth-username": username,
            "auth-password": password,
        },
        **extra,  # type: ignore[arg-type]
    )


def _lock(username: str, address: str, **extra: str) -> None:
    client = Client(REMOTE_ADDR=address)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, username, "wrong-password", **extra)
    assert _login(client, username, **extra).status_code == 429


def test_failures_from_one_address_do_not_lock_the_account_at_another(clinic: Clinic) -> None:
    _lock("ben", "10.1.0.7")
    assert _login(Client(REMOTE_ADDR="10.1.0.8"), "ben").status_code == 302


@override_settings(KETACLINIC_TRUSTED_PROXIES=1)
def test_behind_the_proxy_the_lock_follows_the_client_address(clinic: Clinic) -> None:
    # All requests come from the proxy (one REMOTE_ADDR); the proxy appends the client's.
    _lock("ben", "10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.10")
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert _login(other, "ben", HTTP_X_FORWARDED_FOR="192.0.2.11").status_code == 302
    # a client cannot dodge its own lock by sending an address of its choosing first
    same = Client(REMOTE_ADDR="10.9.9.9")
    forged = "203.0.113.5, 192.0.2.10"
    assert _login(same, "ben", HTTP_X_FORWARDED_FOR=forged).status_code == 429


def test_the_second_check_form_cannot_lock_a_colleague_out(clinic: Clinic) -> None:
    ward = "10.2.0.5"  # the nurse's workstation, where Dr Ada also signs in
    attempts = settings.AXES_FAILURE_LIMIT + 2
    locked = False
    for _ in range(attempts):
        request = RequestFactory().post("/", REMOTE_ADDR=ward)
        request.user = clinic.users["ben"]
        with pytest.raises(SecondPersonRefused):
            second_person_authenticate(
                request=request, username="ada", password="wrong-password", otp=""
            )
        locked = locked or bool(getattr(request, "axes_locked_out", False))
    # Guessing through the form is stopped...
    assert locked
    # ...even with the right password, for as long as the form's lock lasts...
    request = RequestFactory().post("/", REMOTE_ADDR=ward)
    request.user = clinic.users["ben"]
    with pytest.raises(SecondPersonRefused):
        second_person_authenticate(request=request, username="ada", password=PASSWORD, otp="")
    # ...but Dr Ada's own sign-in at that workstation is not locked (the token step follows).
    response = _login(Client(REMOTE_ADDR=ward), "ada")
    assert response.status_code == 200
    assert b"Too many failed attempts" not in response.content
    assert [lock.username for lock in lockouts_current()] == ["ada (second check by ben)"]


def test_an_administrator_unlocks_an_account_and_it_is_audited(clinic: Clinic) -> None:
    _lock("ben", "10.3.0.1")
    [lock] = lockouts_current()
    assert (lock.username, lock.address) == ("ben", "10.3.0.1")
    admin = clinic.client("dana")
    page = admin.get("/setup/lockouts/")
    assert page.status_code == 200
    assert b"ben" in page.content
    assert b"10.3.0.1" in page.content
    before = AuditEvent.objects.count()
    response = admin.post("/setup/lockouts/", {"lockout": str(lock.id)})
    assert response.status_code == 302
    assert lockouts_current() == []
    assert _login(Client(REMOTE_ADDR="10.3.0.1"), "ben").status_code == 302
    event = AuditEvent.objects.order_by("-seq").exclude(object_type="session").first()
    assert AuditEvent.objects.count() > before
    assert event is not None
    assert event.object_type == "login_lockout"
    assert event.object_id == f"user:{clinic.users['ben'].pk}"
    assert event.actor_id == clinic.users["dana"].pk
    assert audit_verify() is None
    # an unlock of a lock that ended already says so and records nothing
    again = admin.post("/setup/lockouts/", {"lockout": str(lock.id)}, follow=True)
    assert b"already ended" in again.content


@pytest.mark.parametrize("who", ["ada", "ben", "cleo", "pat"])
def test_only_the_administrator_may_unlock(clinic: Clinic, who: str) -> None:
    _lock("cleo", "10.4.0.1")
    [lock] = lockouts_current()
    client = clinic.client(who)
    assert client.post("/setup/lockouts/", {"lockout": str(lock.id)}).status_code == 403
    assert len(lockouts_current()) == 1
