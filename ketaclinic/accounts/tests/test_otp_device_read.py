"""The session's verified device (accounts/middleware.py's OTPMiddleware) is read as django-otp
reads it, its statement compiled once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from ketaclinic.accounts.middleware import device_from_persistent_id
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def test_a_device_is_read_as_django_otp_reads_it(clinic: Clinic) -> None:
    device = clinic.totp["ada"]
    static = StaticDevice.objects.create(user=clinic.users["ada"], name="backup")
    for persistent_id in (device.persistent_id, static.persistent_id):
        ours = device_from_persistent_id(persistent_id)
        theirs = Device.from_persistent_id(persistent_id)
        assert ours == theirs and type(ours) is type(theirs)
        assert ours is not None and ours.user_id == clinic.users["ada"].pk
    with CaptureQueriesContext(connection) as queries:
        device_from_persistent_id(device.persistent_id)
    assert len(queries) == 1


@pytest.mark.parametrize(
    "persistent_id",
    [
        "otp_totp.totpdevice/999999",  # gone
        "otp_totp.totpdevice/x",  # not a number
        "nosuchapp.device/1",  # unknown model
        "no-slash",
        "a.b.c/1",
    ],
)
def test_what_names_no_device_reads_as_none(clinic: Clinic, persistent_id: str) -> None:
    assert device_from_persistent_id(persistent_id) is None
    assert Device.from_persistent_id(persistent_id) is None


def test_a_model_that_is_not_a_device_reads_as_none(clinic: Clinic) -> None:
    # django-otp 1.x raises AttributeError here (its filter returns None); ours answers None.
    assert device_from_persistent_id(f"accounts.user/{clinic.users['ada'].pk}") is None


def test_the_verified_device_comes_from_the_session_and_must_be_the_users(
    clinic: Clinic,
) -> None:
    client = Client()
    client.force_login(clinic.users["ada"])
    session = client.session
    session["otp_device_id"] = clinic.totp["ada"].persistent_id
    session.save()
    assert client.get("/patients/").status_code == 200  # verified: the page

    other = Client()
    other.force_login(clinic.users["ada"])
    session = other.session
    theirs = next(device for name, device in clinic.totp.items() if name != "ada")
    session["otp_device_id"] = theirs.persistent_id  # another user's device
    session.save()
    response = other.get("/patients/")
    assert response.status_code == 302  # not verified: back to the second factor
    assert "otp_device_id" not in other.session
