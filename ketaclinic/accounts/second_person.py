"""A second staff member authenticating inside someone else's request: the witness of a
ledger waste or destruction, the second checker of a dose. They type their own username,
password and, where they have a device or their role requires one, a TOTP code.

With the request, a wrong password counts towards a lockout (django-axes, keyed on username
and address) like a failed sign-in, so a witness form cannot be used to guess a colleague's
password; once locked, the attempt is refused and the lockout page is shown. It counts under
its own key (the username and who is asking, `accounts.lockouts`), so that it never locks the
colleague out of their own sign-in.
Without a request (services called from code) the password is checked the same way, uncounted.
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django_otp import devices_for_user

from ketaclinic.accounts.lockouts import SECOND_CHECK_BY
from ketaclinic.accounts.models import User

Refusal = Literal["credentials", "otp_missing", "otp_wrong"]


class SecondPersonRefused(Exception):
    """The credentials do not identify an active user: a wrong username or password
    (`credentials`), or a TOTP code missing or wrong. Callers word it for their form."""

    def __init__(self, kind: Refusal) -> None:
        super().__init__(kind)
        self.kind: Refusal = kind


def second_person_authenticate(
    *, request: HttpRequest | None, username: str, password: str, otp: str
) -> User:
    if request is not None:
        # Counted under "<username> (second check by <acting user>)": the colleague's own
        # sign-in is never locked from here (accounts/lockouts.py).
        checker = getattr(request, "user", None)
        user = authenticate(
            request,
            username=username,
            password=password,
            **{SECOND_CHECK_BY: checker.get_username() if checker else "anonymous"},
        )
    else:
        user = ModelBackend().authenticate(None, username=username, password=password)
    if not isinstance(user, User):
        raise SecondPersonRefused("credentials")
    devices = list(devices_for_user(user, confirmed=True))
    if devices or user.two_factor_required:
        code = otp.strip()
        if not code:
            raise SecondPersonRefused("otp_missing")
        if not any(device.verify_token(code) for device in devices):
            raise SecondPersonRefused("otp_wrong")
    return user
