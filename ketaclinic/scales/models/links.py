"""Single-use questionnaire links (a patient's phone, or the clinic's kiosk tablet) and the
per-address request counter that rate-limits them.

Only the SHA-256 of a link's token is stored: the token itself is shown once, to the staff
member who made the link, and travels only in the link's URL.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient


class LinkMode(models.TextChoices):
    """Who holds the device: the patient's own phone, or a clinic tablet in kiosk mode.
    The values are ``AdministrationMode`` values, stored on the administrations made."""

    PATIENT_SELF = "patient_self", "The patient's own device"
    KIOSK = "kiosk", "The clinic's kiosk tablet"


class PatientLink(models.Model):
    """A link that lets whoever holds it answer ``instruments`` for ``patient``, once, before
    ``expires_at``. The patient comes only from this row, never from what is posted."""

    token_hash = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scale_links")
    instruments = models.JSONField(help_text="Instrument codes, in the order they are asked.")
    mode = models.CharField(max_length=16, choices=LinkMode.choices)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"questionnaire link {self.pk}"

    def is_usable(self, now: datetime | None = None) -> bool:
        moment = now if now is not None else timezone.now()
        return self.used_at is None and moment < self.expires_at


class RequestCount(models.Model):
    """Requests from one key (a client address) in one fixed time window. In the database, so
    that every server process counts the same requests (the default cache is per process)."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="scales_reqcount_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.window_start:%Y-%m-%d %H:%M}: {self.count}"
