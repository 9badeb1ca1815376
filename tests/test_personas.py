"""The personas' cached password hash (ketaclinic.testing) is checkable under whatever hasher list
is in force, even when a test that switched to a fast hasher built the personas first in the same
process (it was not: the ledger's witness tests then refused the personas' password)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password

from ketaclinic import testing
from ketaclinic.accounts.models import User

FAST = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _hashed_as_a_persona() -> str:
    user = User(username="persona")
    with testing._persona_hashing():
        user.set_password(testing.PASSWORD)
    return user.password


def test_the_persona_hash_follows_the_hashers_in_force(settings: Any) -> None:
    clinic_hashers = list(settings.PASSWORD_HASHERS)
    settings.PASSWORD_HASHERS = FAST
    fast = _hashed_as_a_persona()
    settings.PASSWORD_HASHERS = clinic_hashers
    real = _hashed_as_a_persona()

    assert fast.startswith("md5$")
    assert not real.startswith("md5$")
    assert check_password(testing.PASSWORD, real)
