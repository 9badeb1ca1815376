"""A response refused as incomplete that raised an urgent flag all the same.

Scoring refuses an incomplete response (no total without a prorating rule), but a flag rule
holds "whatever the total" (PHQ-9 item 9, scales.md). The answers given are kept here, as the
evidence of the safety flag they opened: the flag's source is this row. No total is stored,
so trends, change from baseline and outcomes never see it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient


class IncompleteResponse(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="incomplete_responses"
    )
    instrument = models.CharField(max_length=40, help_text="Code of the instrument, e.g. phq9.")
    answers = models.JSONField(help_text="{link_id: weight}: the valid answers given.")
    missing = models.JSONField(default=list, blank=True, help_text="Link ids not answered.")
    flags = models.JSONField(default=list, blank=True, help_text="The flags the answers raised.")
    administered_at = models.DateTimeField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["administered_at", "created_at"]

    def __str__(self) -> str:
        return f"incomplete {self.instrument} {self.administered_at:%Y-%m-%d} ({self.pk})"
