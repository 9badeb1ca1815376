"""Secure messages between a patient and the care team.

A thread belongs to one patient. Its messages are written once and never changed or deleted
(a message sent in error is corrected by a later one). Attachments are stored in the database
beside their message, as the consent PDFs are built from database rows: they go into the same
backups, commit or roll back with their message (nothing half-saved) and are never a file under
a public media URL; they are read only through the access-checked, audited download view.
Read state is per user (``ThreadRead``): the patient and each staff member have their own.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient


class Thread(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="message_threads")
    subject = models.CharField(max_length=120)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    # The newest message's time, for the lists' order (kept by the services).
    last_message_at = models.DateTimeField(default=timezone.now)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when a patient's message holds an urgent word; cleared only by staff (audited).
    urgent_since = models.DateTimeField(null=True, blank=True)

    # Set by the selectors' annotation: the other side's messages the reader has not read.
    unread: int

    class Meta:
        ordering = ["-last_message_at"]
        indexes = [
            models.Index(fields=["patient", "-last_message_at"]),
            models.Index(fields=["-last_message_at"]),
        ]

    def __str__(self) -> str:
        return f"thread {self.pk}"

    @property
    def urgent(self) -> bool:
        return self.urgent_since is not None


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_patient = models.BooleanField()
    body = models.TextField(max_length=5000)
    sent_at = models.DateTimeField(default=timezone.now, editable=False)
    # The urgent phrases found in a patient's message, and the list version that found them.
    urgent_phrases = models.JSONField(default=list, blank=True)
    urgent_words_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["thread", "sent_at"])]

    def __str__(self) -> str:
        return f"message {self.pk}"


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()

    class Meta:
        ordering = ["filename", "id"]

    def __str__(self) -> str:
        return f"attachment {self.pk}"


class ThreadRead(models.Model):
    """Until when one user has read one thread."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="messaging_one_read_per_user")
        ]

    def __str__(self) -> str:
        return f"read {self.thread_id} by {self.user_id}"


class UrgentWordList(models.Model):
    """A version of the urgent-word list published by the administrator. The newest is used;
    with none, the shipped defaults (rules/data/urgent_words.json). Never changed."""

    version = models.PositiveIntegerField(unique=True)
    phrases = models.JSONField()
    reason = models.TextField(max_length=2000)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"urgent words v{self.version}"
