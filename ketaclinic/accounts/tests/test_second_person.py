"""A second person (witness, second checker) authenticating inside another user's request."""

from __future__ import annotations

import pytest

from ketaclinic.accounts.second_person import SecondPersonRefused, second_person_authenticate
from ketaclinic.testing import PASSWORD, Clinic, totp_now


def _refusal(clinic: Clinic, username: str, password: str = PASSWORD, otp: str = "") -> str:
    with pytest.raises(SecondPersonRefused) as refused:
        second_person_authenticate(request=None, username=username, password=password, otp=otp)
    return refused.value.kind


def test_the_right_credentials_name_the_second_person(clinic: Clinic) -> None:
    ada = second_person_authenticate(
        request=None, username="ada", password=PASSWORD, otp=totp_now(clinic.totp["ada"])
    )
    assert ada == clinic.users["ada"]
    # A nurse has no device and her role does not require one: the password is enough.
    ben = second_person_authenticate(request=None, username="ben", password=PASSWORD, otp="")
    assert ben == clinic.users["ben"]


def test_wrong_or_missing_credentials_are_refused_by_kind(clinic: Clinic) -> None:
    assert _refusal(clinic, "ada", password="wrong") == "credentials"
    assert _refusal(clinic, "nobody") == "credentials"
    assert _refusal(clinic, "ada") == "otp_missing"
    code = "111111" if totp_now(clinic.totp["ada"]) == "000000" else "000000"
    assert _refusal(clinic, "ada", otp=code) == "otp_wrong"


def test_an_inactive_user_cannot_be_the_second_person(clinic: Clinic) -> None:
    ben = clinic.users["ben"]
    ben.is_active = False
    ben.save(update_fields=["is_active"])
    assert _refusal(clinic, "ben") == "credentials"


def test_a_role_that_requires_two_factor_is_refused_without_a_device(clinic: Clinic) -> None:
    clinic.totp["dana"].delete()
    assert _refusal(clinic, "dana", otp="123456") == "otp_wrong"
