"""Infusion sessions. For now the booking only; the session chart adds its fields later."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.courses.models import Phase


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CHECKED_IN = "checked_in", "Checked in"
    INFUSING = "infusing", "Infusing"
    RECOVERY = "recovery", "Recovery"
    DISCHARGED = "discharged", "Discharged"
    SIGNED = "signed", "Signed"
    CANCELLED = "cancelled", "Cancelled"


class Session(models.Model):
    """One booked treatment session of a course, in a chair.

    `phase` is the course's phase when it was booked (the protocol's spacing and count rules
    are per phase); `chair_until` is when the chair is free again (start + infusion minutes +
    the protocol's minimum observation), kept so that overlaps are one query.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="sessions")
    chair = models.ForeignKey("courses.Chair", on_delete=models.PROTECT, related_name="sessions")
    phase = models.CharField(max_length=16, choices=Phase.choices)
    start = models.DateTimeField()
    chair_until = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Charted when the infusion stops: the nurse confirms the volume actually given and
    # mg = volume x concentration. The ketamine ledger reads `administered_mg`.
    administered_volume_ml = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    administered_mg = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["chair", "start"]),
            models.Index(fields=["course", "start"]),
            # The day's sessions (Today, the chair board's tiles) and the sessions in a state
            # (the board's active ones, the records waiting for a signature), without reading
            # the clinic's whole history (issue 13's page benchmark).
            models.Index(fields=["start"], name="session_start"),
            models.Index(fields=["status", "start"], name="session_status_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(chair_until__gt=models.F("start")),
                name="session_chair_until_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} ({self.status})"
