"""Reminder preferences (the patient's channels and quiet hours) and deliveries (one row per
event and channel, claimed before anything is sent: the unique constraint is what makes two
workers, or a restarted one, send a reminder at most once)."""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message (SMS)")


class Kind(models.TextChoices):
    SESSION_TOMORROW = "session_tomorrow", "Session tomorrow"
    QUESTIONNAIRE_DUE = "questionnaire_due", "Questionnaire due"
    MISSED_SESSION = "missed_session", "Missed session follow-up"


class DeliveryStatus(models.TextChoices):
    # Claimed by a worker, not yet confirmed sent. If its worker died, it stays here and is
    # listed for staff after REMINDERS_UNCONFIRMED_AFTER_SECONDS: never resent blindly.
    CLAIMED = "claimed", "Claimed, not confirmed"
    SENT = "sent", "Sent"
    # The provider said no before accepting (refused connection, a 429/5xx, an SMTP 4xx):
    # tried again after the back-off.
    RETRY = "retry", "Waiting to retry"
    # Refused for good (bad number or address), or still failing after the last attempt.
    FAILED = "failed", "Failed"
    # The provider may or may not have accepted it (timed out after the request went out):
    # not resent, listed for staff.
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    # A member of staff looked at a failed, unconfirmed or stale claimed one (e.g. phoned the
    # patient) and took it off the list, with a note: never sent by a worker after this.
    HANDLED = "handled", "Handled by staff"


class ReminderPreference(models.Model):
    """The patient's choice. Absent means the defaults: e-mail, quiet 21:00-08:00."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="reminder_preference"
    )
    email = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)
    quiet_start = models.TimeField(null=True, blank=True, default=DEFAULT_QUIET_START)
    quiet_end = models.TimeField(null=True, blank=True, default=DEFAULT_QUIET_END)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    def __str__(self) -> str:
        return f"reminder preference {self.pk}"

    @property
    def channels(self) -> list[str]:
        return [c for c, on in ((Channel.EMAIL, self.email), (Channel.SMS, self.sms)) if on]


class Delivery(models.Model):
    """One reminder for one event on one channel. The event key names the event, never its
    content ("session:<id>", "questionnaire:<schedule id>:<due date>", "missed:<id>"). The
    message body is never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_key = models.CharField(max_length=120)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="reminder_deliveries"
    )
    event_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.CLAIMED
    )
    attempts = models.PositiveSmallIntegerField(default=1)
    claimed_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=80, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=120, blank=True)
    # What went wrong, in the provider's terms (a status code, an SMTP reply code); never the
    # address, the number or the text.
    error = models.CharField(max_length=200, blank=True)
    # A person's decisions on it (the worker never resends on its own: at most once).
    resend_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    resend_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "channel"], name="reminder_once_per_event_and_channel"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "claimed_at"], name="reminder_patient_claimed"),
            models.Index(fields=["status", "next_attempt_at"], name="reminder_status_next"),
        ]

    def __str__(self) -> str:
        return f"reminder {self.kind} {self.channel} ({self.status})"
