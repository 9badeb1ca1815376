"""The inquiry pipeline, as stored: contact attempts and the history of status changes.

Both are written once, by ``pipeline_services``, and never changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.intake.models import Inquiry, InquiryStatus


class AttemptMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message (SMS)"
    IN_PERSON = "in_person", "In person"


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    WRONG_NUMBER = "wrong_number", "Wrong number or address"
    BOUNCED = "bounced", "E-mail bounced"


class ContactAttempt(models.Model):
    """Intake tried to reach the person who sent an inquiry."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=AttemptMethod.choices)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["inquiry", "-attempted_at"])]

    def __str__(self) -> str:
        return f"contact attempt {self.pk} ({self.outcome})"


class InquiryStatusChange(models.Model):
    """One move of an inquiry from one status to another, with who, when and why."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=InquiryStatus.choices)
    to_status = models.CharField(max_length=20, choices=InquiryStatus.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["inquiry", "-changed_at"])]

    def __str__(self) -> str:
        return f"inquiry {self.inquiry_id}: {self.from_status} -> {self.to_status}"
