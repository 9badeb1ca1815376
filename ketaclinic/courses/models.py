"""Protocols as versioned data, courses of treatment, dose orders, chairs and prescriber presence.

Rows here are written only by `ketaclinic.courses.services`; the infusion `Session` lives in
`ketaclinic.infusions.models`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.infusions.protocols import protocol_from_json


class Protocol(models.Model):
    """One version of a treatment protocol. Never edited: a change is a new version.

    `definition_json` is the full protocol as JSON text (text, not a JSON column, so that its
    decimal numbers stay exactly as written); the other clinical columns are copies of it for
    lists and the API. Only the newest version of a code is active; courses keep the version
    they were started with.
    """

    code = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    definition_json = models.TextField()
    medication = models.CharField(max_length=100)
    route = models.CharField(max_length=16)
    mg_per_kg = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    fixed_dose_mg = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    infusion_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_dose_mg = models.DecimalField(max_digits=8, decimal_places=2)
    source = models.CharField(max_length=500)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="protocol_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(active=True), name="protocol_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def definition(self) -> ProtocolDefinition:
        """The typed protocol, parsed from the stored JSON."""
        return protocol_from_json(self.definition_json, origin="protocol")


class Phase(models.TextChoices):
    INDUCTION = "induction", "Induction"
    MAINTENANCE = "maintenance", "Maintenance"


class CourseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class Course(models.Model):
    """A patient's course of treatment on one protocol version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="courses")
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.INDUCTION)
    status = models.CharField(
        max_length=16, choices=CourseStatus.choices, default=CourseStatus.ACTIVE
    )
    status_reason = models.TextField(max_length=2000, blank=True)
    """Why the course was last paused, resumed or ended."""
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"course {self.pk} ({self.phase}, {self.status})"


class DoseOrder(models.Model):
    """A clinician's dose adjustment between sessions: mg/kg or a fixed mg, with a rationale."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="dose_orders")
    mg_per_kg = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    fixed_mg = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    rationale = models.TextField(max_length=2000)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-ordered_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(mg_per_kg__isnull=False, fixed_mg__isnull=True)
                    | models.Q(mg_per_kg__isnull=True, fixed_mg__isnull=False)
                ),
                name="doseorder_one_amount",
            ),
        ]

    def __str__(self) -> str:
        amount = f"{self.mg_per_kg} mg/kg" if self.mg_per_kg is not None else f"{self.fixed_mg} mg"
        return f"dose order {amount}"


class Chair(models.Model):
    """An infusion chair. `opening_hours` is a list of {"weekday": 0-6 (Monday is 0),
    "opens": "HH:MM", "closes": "HH:MM"} in the clinic's time zone; an empty list means the
    chair can be booked at any time, so a fresh install refuses nothing for lack of setup."""

    name = models.CharField(max_length=100, unique=True)
    room = models.CharField(max_length=100, blank=True)
    opening_hours = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PrescriberPresence(models.Model):
    """A clinician (prescriber) on site on a date between two clinic-local times."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField()
    from_time = models.TimeField()
    to_time = models.TimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["date", "from_time"]
        indexes = [models.Index(fields=["date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(from_time__lt=models.F("to_time")),
                name="presence_from_before_to",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician_id} on site {self.date} {self.from_time}-{self.to_time}"


class SessionChangeKind(models.TextChoices):
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"
    NO_SHOW = "no_show", "Did not attend"


class SessionChange(models.Model):
    """A booked session cancelled, moved or marked as not attended, with who, when and why.

    Append-only: the session row carries its new state (a no-show and a cancellation leave it
    cancelled, so that it frees its chair and counts no more towards the protocol's limits);
    this row keeps the reason and, for a move, where it was before.
    """

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(max_length=16, choices=SessionChangeKind.choices)
    reason = models.TextField(max_length=2000)
    from_start = models.DateTimeField()
    from_chair = models.CharField(max_length=100)
    to_start = models.DateTimeField(null=True, blank=True)
    to_chair = models.CharField(max_length=100, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["session", "changed_at"])]

    def __str__(self) -> str:
        return f"session {self.session_id} {self.kind}"
