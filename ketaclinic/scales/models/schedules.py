"""When a patient's questionnaires are due: one rule per patient and instrument, as data.

The arithmetic is the pure ``ketaclinic.scales.scheduling``; this is only where rules are kept.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient


class RuleKind(models.TextChoices):
    BEFORE_INFUSION = "before_infusion", "Before each infusion"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    INTERVAL = "interval", "Every N days"


class Phase(models.TextChoices):
    ANY = "any", "Any phase"
    INDUCTION = "induction", "Induction"
    MAINTENANCE = "maintenance", "Maintenance"


def _today() -> date:
    return timezone.localdate()


class ScaleSchedule(models.Model):
    """Ask ``instrument`` of ``patient`` by ``rule_kind``. ``interval_days`` is the custom
    interval, or for ``before_infusion`` how many days before an infusion an answer counts.
    ``grace_days``: how long a due questionnaire stays "due" before it is "overdue"."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scale_schedules")
    instrument = models.CharField(max_length=40)
    rule_kind = models.CharField(max_length=20, choices=RuleKind.choices)
    interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    grace_days = models.PositiveSmallIntegerField(default=2)
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.ANY)
    starts_on = models.DateField(default=_today)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["patient", "instrument", "created_at"]
        indexes = [models.Index(fields=["active", "patient"], name="scales_sched_active_patient")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.rule_kind} for patient {self.patient_id}"
