"""The administrator's staff-account pages: create, role, password reset, lock and unlock,
two-factor reset with a reason; each audited and kept in the account's history."""

from __future__ import annotations

from django_otp import devices_for_user

from ketaclinic.accounts.models import AccountChange, User
from ketaclinic.audit.models import AuditEvent
from ketaclinic.testing import Clinic

NEW_PASSWORD = "a-long-enough-password-41"


def test_the_administrator_creates_a_staff_account(clinic: Clinic) -> None:
    client = clinic.client("dana")
    assert client.get("/setup/users/").status_code == 200
    weak = client.post(
        "/setup/users/",
        {"username": "eve", "role": "nurse", "password1": "123", "password2": "123"},
    )
    assert weak.status_code == 422
    assert not User.objects.filter(username="eve").exists()
    created = client.post(
        "/setup/users/",
        {
            "username": "eve",
            "first_name": "Eve",
            "last_name": "Night",
            "role": "nurse",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert created.status_code == 302
    eve = User.objects.get(username="eve")
    assert eve.role == "nurse" and eve.check_password(NEW_PASSWORD)
    assert AccountChange.objects.get(user=eve).kind == "created"
    event = AuditEvent.objects.get(object_type="User", object_id=str(eve.pk))
    assert event.action == "C" and event.actor == clinic.users["dana"]


def test_role_lock_password_and_two_factor_reset_need_a_reason(clinic: Clinic) -> None:
    client = clinic.client("dana")
    ada = clinic.users["ada"]
    base = f"/setup/users/{ada.pk}"
    assert client.get(f"{base}/").status_code == 200
    assert client.post(f"{base}/two-factor-reset/", {"reason": ""}).status_code == 422
    assert list(devices_for_user(ada, confirmed=None))

    reset = client.post(f"{base}/two-factor-reset/", {"reason": "Lost phone, seen in person"})
    assert reset.status_code == 302
    assert list(devices_for_user(ada, confirmed=None)) == []

    locked = client.post(f"{base}/lock/", {"reason": "On leave"})
    assert locked.status_code == 302
    ada.refresh_from_db()
    assert not ada.is_active
    assert client.post(f"{base}/lock/", {"reason": "Twice"}).status_code == 409
    assert client.post(f"{base}/unlock/", {"reason": "Back"}).status_code == 302

    pw = client.post(
        f"{base}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "reason": "Forgot it"},
    )
    assert pw.status_code == 302
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)

    role = client.post(f"{base}/role/", {"role": "nurse", "reason": "Now works as a nurse"})
    assert role.status_code == 302
    ada.refresh_from_db()
    assert ada.role == "nurse"

    kinds = [c.kind for c in AccountChange.objects.filter(user=ada).order_by("pk")]
    assert kinds == ["two_factor_reset", "locked", "unlocked", "password", "role"]
    reasons = list(AccountChange.objects.filter(user=ada).values_list("reason", flat=True))
    assert "Lost phone, seen in person" in reasons
    assert AuditEvent.objects.filter(object_type="User", object_id=str(ada.pk)).count() == 5
    page = client.get(f"{base}/")
    assert b"Lost phone, seen in person" in page.content
    assert "Clinician (prescriber) → Infusion nurse".encode() in page.content


def test_an_administrator_cannot_lock_or_demote_themselves(clinic: Clinic) -> None:
    dana = clinic.users["dana"]
    client = clinic.client("dana")
    answer = client.post(f"/setup/users/{dana.pk}/lock/", {"reason": "Oops"})
    assert answer.status_code == 409
    dana.refresh_from_db()
    assert dana.is_active


def test_only_the_administrator_manages_accounts(clinic: Clinic) -> None:
    for persona in ("ada", "ben", "cleo", "pat"):
        assert clinic.client(persona).get("/setup/users/").status_code == 403
    patient_account = clinic.users["pat"]
    assert clinic.client("dana").get(f"/setup/users/{patient_account.pk}/").status_code == 404
