"""Witnesses, who authenticate with their own credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_otp import devices_for_user

from ketaclinic.accounts.access import user_can


@dataclass(frozen=True)
class WitnessCredentials:
    username: str
    password: str
    otp: str = ""


def witness_authenticate(
    *, acting_user: Any, credentials: WitnessCredentials | None, field: str = "witness_"
) -> Any:
    """The witness, who must be a different active staff user allowed to witness and who
    authenticates here: password, and a TOTP code when they have enrolled a device."""
    if credentials is None or not credentials.username:
        raise ValidationError({f"{field}username": ["A second staff user must witness this."]})
    wrong = ValidationError({f"{field}password": ["The witness's username or password is wrong."]})
    user = get_user_model().objects.filter(username=credentials.username).first()
    if user is None or not user.is_active:
        raise wrong
    if not user.check_password(credentials.password):
        raise wrong
    if user.pk == acting_user.pk:
        raise ValidationError(
            {f"{field}username": ["The witness must be a different person from you."]}
        )
    if not user_can(user, "ledger.witness"):
        raise ValidationError(
            {f"{field}username": ["This user's role may not witness ledger entries."]}
        )
    devices = list(devices_for_user(user, confirmed=True))
    if devices:
        code = credentials.otp.strip()
        if not code:
            raise ValidationError(
                {f"{field}otp": ["The witness has two-factor authentication: give their code."]}
            )
        if not any(device.verify_token(code) for device in devices):
            raise ValidationError({f"{field}otp": ["The witness's code is wrong or used."]})
    return user
