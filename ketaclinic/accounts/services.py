"""Creating users and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import ApiToken, User, token_hash
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.patients.models import Patient

TOKEN_PREFIX = "kc_"  # noqa: S105  a label, not a secret


@transaction.atomic
def user_create(
    *,
    acting_user: Any,
    username: str,
    role: Role | str,
    password: str,
    email: str = "",
    patient: Patient | None = None,
    validate: bool = True,
) -> User:
    """Create a user in one role. A patient user must be linked to their record.

    Raises django.core.exceptions.ValidationError for a weak password or bad fields.
    """
    role = Role(role)
    if role is Role.PATIENT and patient is None:
        raise ValueError("a patient user needs --patient-id, the record they may see")
    if role is not Role.PATIENT and patient is not None:
        raise ValueError("only patient users are linked to a patient record")
    user = User(username=username, email=email, role=role.value, patient=patient)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save(force_insert=True)
    if patient is not None:
        audit_record(
            actor=acting_user,
            action=Action.CREATE,
            object_type="User",
            object_id=user.pk,
            patient_id=patient.pk,
        )
    return user


@transaction.atomic
def apitoken_create(*, user: User, days: int) -> tuple[ApiToken, str]:
    """A new bearer token; returns the row and the token itself, which is never stored."""
    if days < 1 or days > 3650:
        raise ValueError("a token lives between 1 and 3650 days")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        prefix=raw[:10],
        token_hash=token_hash(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return row, raw


def apitoken_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
