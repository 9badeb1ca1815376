"""Bedside monitors registered to chairs, and every HL7 message they sent, kept raw with
its parse result (for audit). Written only by `ketaclinic.monitors.services`."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class MonitorDevice(models.Model):
    """A monitor, known by the id it sends (OBX-18 EUI-64 or MSH-3's universal id) and
    optionally the sending facility (MSH-4), assigned to a chair."""

    name = models.CharField(max_length=100)
    device_id = models.CharField(max_length=100, unique=True)
    sending_facility = models.CharField(max_length=100, blank=True)
    """When set, a message must also carry it in MSH-4 to be taken as this device's."""
    chair = models.ForeignKey(
        "courses.Chair",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="monitors",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.device_id})"

    @property
    def label(self) -> str:
        return self.label_of(self.name, self.device_id)

    @staticmethod
    def label_of(name: str, device_id: str) -> str:
        return f"{name} [{device_id}]"[:100]


class MessageStatus(models.TextChoices):
    CHARTED = "charted", "Charted into a session"
    UNASSIGNED = "unassigned", "Waiting for a nurse to assign it"
    ASSIGNED = "assigned", "Assigned by a nurse"
    DISMISSED = "dismissed", "Dismissed by a nurse (kept, not charted)"
    NOTHING = "nothing", "Nothing to chart"
    SKIPPED = "skipped", "Skipped (waveform)"
    REFUSED = "refused", "Refused"


class MonitorMessage(models.Model):
    """One received message as it came, with what was made of it."""

    received_at = models.DateTimeField(default=timezone.now)
    raw = models.TextField()
    """The payload between the MLLP block characters, decoded (UTF-8, else Latin-1)."""
    control_id = models.CharField(max_length=100, blank=True)
    message_type = models.CharField(max_length=16, blank=True)
    sending_ids = models.CharField(max_length=300, blank=True)
    device = models.ForeignKey(
        MonitorDevice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,  # (device, control_id) serves it (Meta.indexes; issue 17)
    )
    observed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    reason = models.TextField(blank=True)
    """Why it is unassigned, skipped or refused."""
    parse_json = models.TextField(default="{}")
    """The parse result (`feed.parse.ParsedMessage.as_json`, with what charting made of it)
    as JSON text, kept beside the raw message for audit; `parse_result` reads it. Text, not
    jsonb (until monitors 0004): nothing queries inside it, and PostgreSQL built 1.6 kB of
    jsonb for every message of the feed (~20 us of its CPU a message; issue 17)."""
    ack_code = models.CharField(max_length=2)
    session = models.ForeignKey(
        "infusions.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    readings = models.PositiveSmallIntegerField(default=0)
    """Vitals rows charted from it."""
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index: set on the few messages a nurse assigned
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["device", "control_id"]),
            models.Index(
                fields=["assigned_by"],
                condition=models.Q(assigned_by__isnull=False),
                name="monitor_message_assigned_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id} ({self.status})"

    @property
    def parse_result(self) -> dict[str, Any]:
        """The stored parse result (`feed.parse.parsed_from_json` reads either format)."""
        result: dict[str, Any] = json.loads(self.parse_json or "{}")
        return result
