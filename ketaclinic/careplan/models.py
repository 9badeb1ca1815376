"""A patient's care plan, its versions, lifestyle check-ins, and the therapists' integration
notes. Signed versions and signed notes are frozen (canonical JSON and its SHA-256);
integration notes change after signing only by addenda."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient, SafetyFlag


class PlanStatus(models.TextChoices):
    """FHIR CarePlan.status of a signed version."""

    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    REVOKED = "revoked", "Stopped (revoked)"


class CarePlan(models.Model):
    """One per patient; its content lives in its versions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="care_plan")
    # The in-house therapists the last signed version names (psychotherapy or integration):
    # who may read this plan and write integration notes. Set only when a version is signed.
    therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="care_plans_assigned"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"care plan of {self.patient_id}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class CarePlanVersion(models.Model):
    """One version of the plan. ``content`` is written by the editor's forms (never typed as
    JSON) in the shape ``careplan/content.py`` describes."""

    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=VersionStatus.choices)
    plan_status = models.CharField(
        max_length=12, choices=PlanStatus.choices, default=PlanStatus.ACTIVE
    )
    content = models.JSONField(default=dict)
    review_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the signed JSON.")

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="careplanversion_number"),
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(status="draft"),
                name="careplanversion_one_draft",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (models.Q(signed_at__isnull=False) & models.Q(signed_by__isnull=False)),
                name="careplanversion_signed_has_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"care plan version {self.number} ({self.status})"

    @property
    def patient_id(self) -> uuid.UUID:
        return self.plan.patient_id


class LifestyleArea(models.TextChoices):
    SLEEP = "sleep", "Sleep"
    EXERCISE = "exercise", "Exercise"
    ALCOHOL = "alcohol", "Alcohol"
    SUBSTANCES = "substances", "Other substances"


class LifestyleCheckIn(models.Model):
    """How a lifestyle goal is going, recorded over time (not part of a signed version)."""

    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="checkins")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    area = models.CharField(max_length=12, choices=LifestyleArea.choices)
    note = models.TextField(max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["plan", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.area} check-in"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class IntegrationNote(models.Model):
    """A therapist's note of an integration session: themes, intentions, progress on each
    care-plan goal, and a risk check (positive raises a safety flag for the prescriber)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="notes")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="integration_notes"
    )
    session_on = models.DateField()
    themes = models.TextField(max_length=4000)
    intentions = models.TextField(max_length=4000, blank=True)
    # [{"goal": goal key, "text": the goal as written, "progress": what the therapist saw}]
    goal_progress = models.JSONField(default=list, blank=True)
    risk_positive = models.BooleanField(default=False)
    risk_note = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    flag = models.ForeignKey(
        SafetyFlag, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-session_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "status", "-signed_at"])]

    def __str__(self) -> str:
        return f"integration note {self.pk} ({self.status})"


class IntegrationAddendum(models.Model):
    """A later word on a signed note; the note itself never changes."""

    note = models.ForeignKey(IntegrationNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=4000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"addendum to note {self.note_id}"

    @property
    def patient_id(self) -> uuid.UUID:
        return self.note.patient_id
