from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from ketaclinic.accounts.roles import STAFF_ROLES, TWO_FACTOR_REQUIRED, Role


class User(AbstractUser):
    """A person who logs in: staff in one role, or a patient linked to their record."""

    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in Role])
    patient = models.OneToOneField(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user_account",
        help_text="For patient users: the record they may see.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="user_role_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(role=Role.PATIENT.value) | models.Q(patient__isnull=False),
                name="patient_user_has_record",
            ),
        ]

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_clinic_staff(self) -> bool:
        return self.role_enum in STAFF_ROLES

    @property
    def two_factor_required(self) -> bool:
        return self.role_enum in TWO_FACTOR_REQUIRED


def user_is_verified(user: Any) -> bool:
    """Whether this session passed a second factor (django-otp's OTPMiddleware sets it)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token for programs. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"token {self.prefix}… of user {self.user_id}"

    def is_active(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and self.expires_at > moment


class AccountChangeKind(models.TextChoices):
    CREATED = "created", "Account created"
    ROLE = "role", "Role changed"
    PASSWORD = "password", "Password reset by an administrator"
    LOCKED = "locked", "Locked"
    UNLOCKED = "unlocked", "Unlocked"
    TWO_FACTOR_RESET = "two_factor_reset", "Two-factor authentication reset"


class AccountChange(models.Model):
    """An administrator's change to a staff account, with the reason. Append-only; the audit
    trail holds the matching event (object type User)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="account_changes")
    kind = models.CharField(max_length=20, choices=AccountChangeKind.choices)
    detail = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=2000, blank=True)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["user", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of user {self.user_id}"
