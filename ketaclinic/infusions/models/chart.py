"""The session chart: every step timestamped (`at`, the clinical time) and attributed
(`recorded_by`). Rows are written only by `ketaclinic.infusions.services`; once a session
is signed nothing here changes, and later notes are `Addendum` rows beside the signed record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.infusions.protocols import Action
from ketaclinic.infusions.rules.monitoring import alert_needs_note


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


class VitalsSource(models.TextChoices):
    NURSE = "nurse", "Typed by staff"
    MONITOR = "monitor", "From the bedside monitor"


class VitalsReading(models.Model):
    """One set of vital signs. `idempotency_key` makes a retried post store one row.

    Typed rows carry all five values. A row from the bedside monitor (`source` monitor) holds
    what the monitor measured at that time (the periodic values, or the cuff at its own time),
    so a value may be missing; it is stored at once (alerts raised at once) and counts as
    charted once a nurse confirms it (`confirmed_by/at`; the batch in one click, or
    automatically after the protocol's time). A nurse may mark it an artefact, with a reason:
    it is kept, not charted.
    """

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="vitals", db_index=False
    )
    """Indexed by (session, at) first (`Meta.indexes`): a session_id index of its own was
    one more index to write per row and served no query the composite does not (issue 17)."""
    at = models.DateTimeField()
    phase = models.CharField(max_length=16)
    """The session's status when taken: checked_in (pre-dose), infusing or recovery."""
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    moaas = models.PositiveSmallIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index (Meta.indexes)
    )
    """Who typed it; empty for a monitor's row (the device is in `device`)."""
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    source = models.CharField(
        max_length=8, choices=VitalsSource.choices, default=VitalsSource.NURSE
    )
    device = models.CharField(max_length=100, blank=True)
    """The monitor's registered name and id, for a monitor's row."""
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index (Meta.indexes)
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    """For a monitor's row: when it was confirmed (by a nurse, or automatically when
    `confirmed_by` is empty)."""
    artefact = models.BooleanField(default=False)
    artefact_reason = models.TextField(max_length=500, blank=True)
    artefact_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index (Meta.indexes)
    )
    artefact_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["session", "at"]),
            models.Index(fields=["session", "source", "confirmed_at"]),
            # The users' keys only where set (a user's removal is checked against them): a
            # monitor's row has none of them, and wrote three index entries of NULL (issue 17).
            *(
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"vitals_{name}_set",
                )
                for name in ("recorded_by", "confirmed_by", "artefact_by")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="vitals_one_row_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=models.Q(source="monitor")
                | models.Q(
                    systolic_mmhg__isnull=False,
                    diastolic_mmhg__isnull=False,
                    heart_rate_bpm__isnull=False,
                    spo2_percent__isnull=False,
                    respiratory_rate__isnull=False,
                    recorded_by__isnull=False,
                ),
                name="vitals_typed_rows_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(artefact=False) | ~models.Q(artefact_reason=""),
                name="vitals_artefact_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"vitals {self.systolic_mmhg}/{self.diastolic_mmhg} at {self.at:%H:%M}"

    @property
    def from_monitor(self) -> bool:
        return self.source == VitalsSource.MONITOR

    @property
    def awaiting_confirmation(self) -> bool:
        return self.from_monitor and self.confirmed_at is None and not self.artefact


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


class RecordDocument(models.Model):
    """The signed session record as a PDF, stored once per version and never changed, so its
    bytes (and size and SHA-1) are the same wherever it is served: the staff download and FHIR
    ``DocumentReference``/``Binary`` (``fhir/resources/session_record.py``).

    Version 1 is rendered at signing, in the signing transaction: the record as signed.
    Each addendum adds a version, rendered in the addendum's transaction: the record as
    signed with every addendum so far (``addendum`` names the one that made it). Earlier
    versions are kept: the record as signed stays retrievable (FHIR ``_history/1``)."""

    session = models.ForeignKey(
        "infusions.Session", on_delete=models.PROTECT, related_name="record_documents"
    )
    version = models.PositiveIntegerField()
    pdf = models.BinaryField()
    size = models.PositiveIntegerField()
    sha1 = models.CharField(max_length=40, help_text="Hex SHA-1 of the PDF bytes.")
    addendum = models.OneToOneField(
        Addendum, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "version"], name="infusions_record_document_version"
            )
        ]

    def __str__(self) -> str:
        return f"record PDF v{self.version} of session {self.session_id}"
