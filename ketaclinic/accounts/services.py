"""Creating users and API tokens; an administrator's changes to staff accounts."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import (
    AccountChange,
    AccountChangeKind,
    ApiToken,
    User,
    token_hash,
)
from ketaclinic.accounts.roles import STAFF_ROLES, Role
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


# -- staff accounts, by an administrator (setup pages) -------------------------------------------


class AccountRefused(Exception):
    """The change is well formed but refused (e.g. an administrator locking themselves out)."""


def _account_audit(
    acting_user: Any, user: User, kind: AccountChangeKind, *, detail: str = "", reason: str = ""
) -> AccountChange:
    change = AccountChange(
        user=user, kind=kind, detail=detail[:200], reason=reason, changed_by=acting_user
    )
    change.full_clean()
    change.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE if kind == AccountChangeKind.CREATED else Action.UPDATE,
        object_type="User",
        object_id=user.pk,
        patient_id=None,
    )
    return change


def _required(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["A reason is required."]})
    return reason


def _password_check(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None


def _not_self(acting_user: Any, user: User, what: str) -> None:
    if user.pk == getattr(acting_user, "pk", None):
        raise AccountRefused(f"you cannot {what} your own account; ask another administrator")


@transaction.atomic
def staff_user_create(
    *,
    acting_user: Any,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """A staff account (not a patient's) in one role, with a first password the person changes
    at will; audited with who made it."""
    require(acting_user, "user.manage")
    if role not in {r.value for r in STAFF_ROLES}:
        raise ValidationError({"role": ["Choose a staff role."]})
    user = User(
        username=username.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        role=role,
    )
    _password_check(password, user)
    user.set_password(password)
    user.full_clean()
    user.save(force_insert=True)
    _account_audit(acting_user, user, AccountChangeKind.CREATED, detail=Role(role).label)
    return user


@transaction.atomic
def staff_user_role_set(*, acting_user: Any, user: User, role: str, reason: str) -> User:
    require(acting_user, "user.manage")
    reason = _required(reason)
    _not_self(acting_user, user, "change the role of")
    if role not in {r.value for r in STAFF_ROLES} or user.role == Role.PATIENT:
        raise ValidationError({"role": ["Choose a staff role (patients' accounts stay theirs)."]})
    if user.role == role:
        raise AccountRefused(f"{user.username} already is {Role(role).label}")
    before = Role(user.role).label
    user.role = role
    user.save(update_fields=["role"])
    detail = f"{before} → {Role(role).label}"
    _account_audit(acting_user, user, AccountChangeKind.ROLE, detail=detail, reason=reason)
    return user


@transaction.atomic
def staff_user_password_set(*, acting_user: Any, user: User, password: str, reason: str) -> User:
    """A new password set by an administrator (the person forgot theirs); the sign-in lockout
    for the username is cleared."""
    require(acting_user, "user.manage")
    reason = _required(reason)
    _password_check(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    _axes_reset(user)
    _account_audit(acting_user, user, AccountChangeKind.PASSWORD, reason=reason)
    return user


def _axes_reset(user: User) -> None:
    from axes.utils import reset  # imported here: django-axes reads settings at import

    reset(username=user.username)


@transaction.atomic
def staff_user_lock(*, acting_user: Any, user: User, locked: bool, reason: str) -> User:
    """Lock (no sign-in, no API token works) or unlock an account. Unlocking also clears the
    sign-in lockout after failed attempts."""
    require(acting_user, "user.manage")
    reason = _required(reason)
    _not_self(acting_user, user, "lock or unlock")
    if user.is_active == (not locked):
        raise AccountRefused(f"{user.username} is already {'locked' if locked else 'unlocked'}")
    user.is_active = not locked
    user.save(update_fields=["is_active"])
    if not locked:
        _axes_reset(user)
    kind = AccountChangeKind.LOCKED if locked else AccountChangeKind.UNLOCKED
    _account_audit(acting_user, user, kind, reason=reason)
    return user


@transaction.atomic
def staff_user_two_factor_reset(*, acting_user: Any, user: User, reason: str) -> int:
    """Remove every second-factor device of the account (a lost phone): the person enrols
    again at the next sign-in (required for their role) or may. Returns how many were removed."""
    require(acting_user, "user.manage")
    reason = _required(reason)
    _not_self(acting_user, user, "reset two-factor authentication of")
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    detail = f"{removed} device{'s' if removed != 1 else ''} removed"
    _account_audit(
        acting_user, user, AccountChangeKind.TWO_FACTOR_RESET, detail=detail, reason=reason
    )
    return removed
