"""The session chart: every step timestamped (`at`, the clinical time) and attributed
(`recorded_by`). Rows are written only by `ketaclinic.infusions.chart_services`; once a session
is signed nothing here changes, and later notes are `Addendum` rows beside the signed record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.infusions.monitoring import alert_needs_note
from ketaclinic.infusions.protocols import Action


class ChartEntryKind(models.TextChoices):
    CHECK_IN = "check_in", "Checked in"
    PRECHECKS = "prechecks", "Pre-checks"
    CLINICIAN_REVIEW = "clinician_review", "Clinician review before start"
    DRAW_EXCEPTION = "draw_exception", "Started without a ledger draw (clinician's reason)"
    INFUSION_START = "infusion_start", "Infusion started"
    RATE_CHANGE = "rate_change", "Rate changed"
    PAUSE = "pause", "Infusion paused"
    RESUME = "resume", "Infusion resumed"
    INFUSION_STOP = "infusion_stop", "Infusion stopped"
    SIDE_EFFECT = "side_effect", "Side effect"
    ASSESSMENT = "assessment", "Assessment"
    DISCHARGE = "discharge", "Discharged"
    SIGNATURE = "signature", "Signed"


class ChartEntry(models.Model):
    """One step of the chart. `data_json` is canonical JSON (decimals as text)."""

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="chart_entries"
    )
    kind = models.CharField(max_length=24, choices=ChartEntryKind.choices)
    at = models.DateTimeField()
    reason = models.TextField(max_length=2000, blank=True)
    data_json = models.TextField(default="{}")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["session", "kind", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class VitalsReading(models.Model):
    """One set of vital signs. `idempotency_key` makes a retried post store one row."""

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="vitals"
    )
    at = models.DateTimeField()
    phase = models.CharField(max_length=16)
    """The session's status when taken: checked_in (pre-dose), infusing or recovery."""
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    spo2_percent = models.PositiveSmallIntegerField()
    respiratory_rate = models.PositiveSmallIntegerField()
    moaas = models.PositiveSmallIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["session", "at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="vitals_one_row_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"vitals {self.systolic_mmhg}/{self.diastolic_mmhg} at {self.at:%H:%M}"


class SessionAlert(models.Model):
    """An alert raised by a protocol threshold; open until a nurse or clinician acknowledges."""

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="alerts"
    )
    vitals = models.ForeignKey(VitalsReading, on_delete=models.PROTECT, related_name="alerts")
    code = models.CharField(max_length=64)
    field = models.CharField(max_length=32)
    value = models.IntegerField()
    comparator = models.CharField(max_length=2)
    threshold = models.IntegerField()
    recommended_action = models.CharField(max_length=32)
    actions = models.CharField(max_length=200)
    """Comma-separated, most important first."""
    message = models.TextField()
    source = models.TextField()
    raised_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(max_length=2000, blank=True)
    """What was done; required when an action is stop, pause or call the prescriber."""

    class Meta:
        ordering = ["raised_at", "pk"]
        indexes = [models.Index(fields=["session", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"alert {self.code} {self.value}"

    @property
    def needs_note(self) -> bool:
        """Whether acknowledging it needs a note (its actions stop, pause or call)."""
        return alert_needs_note(Action(a) for a in self.actions.split(",") if a)


class DoseCheck(models.Model):
    """A dose calculation and its second check by another staff member (own credentials)."""

    session = models.ForeignKey("infusions.Session", on_delete=models.PROTECT, related_name="doses")
    amount = models.DecimalField(max_digits=10, decimal_places=4)
    weight_kg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=8, decimal_places=3, null=True, blank=True
    )
    bag_volume_ml = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=10, decimal_places=4)
    drug_volume_ml = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    infusion_minutes = models.PositiveIntegerField(null=True, blank=True)
    rate_ml_per_h = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    max_single_dose_mg = models.DecimalField(max_digits=10, decimal_places=4)
    above_maximum = models.BooleanField(default=False)
    override_reason = models.TextField(max_length=2000, blank=True)
    working = models.TextField()
    calculated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    calculated_at = models.DateTimeField(default=timezone.now)
    second_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["calculated_at", "pk"]

    def __str__(self) -> str:
        return f"dose {self.dose_mg} mg"


class SessionSignature(models.Model):
    """The nurse's and the clinician's signatures; with both, the record is frozen."""

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="signatures"
    )
    role = models.CharField(max_length=16)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "role"], name="signature_one_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.role} signature"


class SignedRecord(models.Model):
    """The frozen chart: canonical JSON snapshot and its SHA-256."""

    session = models.OneToOneField(
        "infusions.Session", on_delete=models.PROTECT, related_name="signed_record"
    )
    snapshot_json = models.TextField()
    sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"signed record {self.sha256[:12]}"


class Addendum(models.Model):
    """A note added after signing; the signed record itself never changes."""

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="addenda"
    )
    text = models.TextField(max_length=5000)
    record_sha256 = models.CharField(max_length=64)
    """The digest of the signed record this addendum stands beside."""
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"addendum {self.pk}"
