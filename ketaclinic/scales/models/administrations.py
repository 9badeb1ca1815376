"""Administrations of rating scales, and the in-app notifications they can raise.

Scores are computed by the pure ``ketaclinic.scales.scoring.score`` and stored with the answers,
so that a row always shows what was answered and what the definition made of it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient


class AdministrationMode(models.TextChoices):
    STAFF_ENTRY = "staff_entry", "Entered by staff"
    PATIENT_SELF = "patient_self", "Answered by the patient"
    KIOSK = "kiosk", "Answered at the clinic's kiosk"


class Administration(models.Model):
    """One completed rating scale for a patient: the answers and their score."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="administrations")
    instrument = models.CharField(max_length=40, help_text="Code of the instrument, e.g. phq9.")
    answers = models.JSONField(help_text="{link_id: weight}, as scored.")
    total = models.IntegerField(null=True, blank=True, help_text="None for C-SSRS (no total).")
    subscales = models.JSONField(default=dict, blank=True)
    band = models.CharField(max_length=60, blank=True)
    risk_level = models.CharField(max_length=20, blank=True)
    flags = models.JSONField(default=list, blank=True, help_text="The flags the answers raised.")
    administered_at = models.DateTimeField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=AdministrationMode.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["administered_at", "created_at"]
        indexes = [
            models.Index(
                fields=["patient", "instrument", "administered_at"],
                name="scales_adm_patient_instr_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.administered_at:%Y-%m-%d} ({self.pk})"


class Notification(models.Model):
    """A message in a user's in-app inbox. Its text names no patient: the link leads to the
    record, where reading it is access-checked and audited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(max_length=200)
    link = models.CharField(max_length=200, blank=True, help_text="A path inside KetaClinic.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="scales_notif_user_read")]

    def __str__(self) -> str:
        return f"notification {self.pk} for user {self.user_id}"
