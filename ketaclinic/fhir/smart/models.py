"""Programs registered for SMART Backend Services, their access tokens and used assertion ids."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ClientKind(models.TextChoices):
    SYSTEM = "system", "The whole clinic (system/ scopes)"
    PATIENT = "patient", "One patient (patient/ scopes)"


class SmartClient(models.Model):
    """A program the administrator registered: its public keys (JWKS, as given: a JWKS URL is
    never fetched), the scopes it may be granted, and whether it sees one patient only.

    ``account`` is the program's own user account (role client, no password, never signs in):
    the audit trail's actor for everything the program reads or writes."""

    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    jwks_json = models.TextField(help_text="The program's public JSON Web Key Set.")
    allowed_scopes = models.TextField(help_text="Space-separated SMART v2 scopes.")
    kind = models.CharField(max_length=8, choices=ClientKind.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="smart_client"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "client_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=ClientKind.SYSTEM, patient__isnull=True)
                | models.Q(kind=ClientKind.PATIENT, patient__isnull=False),
                name="smart_client_patient_iff_patient_kind",
            )
        ]

    def __str__(self) -> str:
        return f"SMART client {self.client_id}"


class SmartAccessToken(models.Model):
    """An access token issued at the token endpoint; only its SHA-256 is stored."""

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.TextField()
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"access token of client {self.client_id}"


class UsedAssertion(models.Model):
    """A client assertion's ``jti``, kept until the assertion expires: a replay is refused."""

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="smart_assertion_jti_once")
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"assertion {self.jti} of client {self.client_id}"
