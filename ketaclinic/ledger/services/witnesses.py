"""Witnesses, who authenticate with their own credentials."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.second_person import SecondPersonRefused, second_person_authenticate


@dataclass(frozen=True)
class WitnessCredentials:
    username: str
    password: str
    otp: str = ""
    request: HttpRequest | None = dataclass_field(default=None, compare=False, repr=False)
    """The request the witness types into: with it, a wrong password counts towards the
    witness's sign-in lockout."""


def witness_authenticate(
    *, acting_user: Any, credentials: WitnessCredentials | None, field: str = "witness_"
) -> Any:
    """The witness, who must be a different active staff user allowed to witness and who
    authenticates here: password, and a TOTP code when they have enrolled a device or their
    role requires one (`accounts.second_person`)."""
    if credentials is None or not credentials.username:
        raise ValidationError({f"{field}username": ["A second staff user must witness this."]})
    try:
        user = second_person_authenticate(
            request=credentials.request,
            username=credentials.username,
            password=credentials.password,
            otp=credentials.otp,
        )
    except SecondPersonRefused as refused:
        if refused.kind == "credentials":
            raise ValidationError(
                {f"{field}password": ["The witness's username or password is wrong."]}
            ) from None
        if refused.kind == "otp_missing":
            raise ValidationError(
                {f"{field}otp": ["The witness has two-factor authentication: give their code."]}
            ) from None
        raise ValidationError({f"{field}otp": ["The witness's code is wrong or used."]}) from None
    if user.pk == acting_user.pk:
        raise ValidationError(
            {f"{field}username": ["The witness must be a different person from you."]}
        )
    if not user_can(user, "ledger.witness"):
        raise ValidationError(
            {f"{field}username": ["This user's role may not witness ledger entries."]}
        )
    return user
