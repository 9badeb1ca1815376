from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone


class SexAtBirth(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Unknown or not stated"


class Patient(models.Model):
    """A person treated at the clinic. Ids are random, so URLs reveal nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField("MRN", max_length=16, unique=True, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex_at_birth = models.CharField(max_length=16, choices=SexAtBirth.choices)
    gender_identity = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(max_length=500, blank=True)
    emergency_contact = models.TextField(max_length=500, blank=True)
    referring_provider = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["family_name", "given_name", "mrn"]
        indexes = [
            models.Index(fields=["family_name", "given_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class FlagStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


class SafetyFlag(models.Model):
    """A safety concern on a patient (e.g. suicide risk); never deleted, only acknowledged."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="flags")
    code = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, default="high")
    status = models.CharField(max_length=16, choices=FlagStatus.choices, default=FlagStatus.ACTIVE)
    opened_at = models.DateTimeField(default=timezone.now)
    # What raised the flag (e.g. "Administration" and its id); empty when opened by hand.
    source_object_type = models.CharField(max_length=40, blank=True)
    source_object_id = models.CharField(max_length=64, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            # At most one active flag per concern: a second alert adds nothing to the banner.
            models.UniqueConstraint(
                fields=["patient", "code"],
                condition=models.Q(status="active"),
                name="safetyflag_one_active_per_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"
