"""Computed outcomes, one row per course and measure, and its scores at each timepoint.

These rows are derived data: ``outcomes_refresh`` recomputes them from the scales'
administrations and the courses' sessions with the pure rules (``outcomes.rules``), so that the
clinic page's figures are database aggregates over them. Nothing here is entered by hand; a
patient's own summary is computed live from the source rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

# These rows are derived and rewritten wholesale, in one transaction, from rows whose own foreign
# keys hold (sessions, courses, administrations), so their references carry no database
# constraint: PostgreSQL checks each deferred constraint row by row at commit, which at 100,000
# patients (2 million references) cost about a third of the recompute (bench/README.md). Django
# still cascades deletes; the unique constraints index ``course`` and ``outcome`` already.


class CourseOutcome(models.Model):
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        related_name="outcome_rows",
        db_constraint=False,
        db_index=False,
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    measure = models.CharField(max_length=40)
    disorder = models.CharField(max_length=24, blank=True)
    protocol_code = models.CharField(max_length=100)
    route = models.CharField(max_length=16)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    first_infusion_at = models.DateTimeField()
    infusions_given = models.PositiveIntegerField()
    baseline = models.IntegerField(null=True, blank=True)
    # when the baseline score was taken (the patient page shows it beside the baseline)
    baseline_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=24)
    response_infusion = models.PositiveIntegerField(null=True, blank=True)
    response_days = models.IntegerField(null=True, blank=True)
    durability_days = models.IntegerField(null=True, blank=True)
    durability_event = models.BooleanField(default=False)
    definitions_label = models.CharField(max_length=80)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "measure"], name="outcome_course_measure")
        ]
        indexes = [
            models.Index(fields=["measure", "disorder", "first_infusion_at"]),
        ]

    def __str__(self) -> str:
        return f"outcome {self.measure} of course {self.course_id}"


class Timepoint(models.TextChoices):
    INFUSION = "infusion", "After infusion"
    POST_INDUCTION = "post_induction", "14-31 days after the last induction infusion"
    WEEK_6 = "week_6", "6 weeks after the first infusion"
    LATEST = "latest", "Latest score"


class TimepointResult(models.Model):
    """A course's score on a measure at one timepoint, judged against its baseline."""

    outcome = models.ForeignKey(
        CourseOutcome,
        on_delete=models.CASCADE,
        related_name="timepoints",
        db_constraint=False,
        db_index=False,
    )
    timepoint = models.CharField(max_length=24, choices=Timepoint.choices)
    infusion_number = models.PositiveIntegerField(default=0)  # 0 unless timepoint is infusion
    score = models.IntegerField()
    percent_fall = models.FloatField(null=True, blank=True)
    has_baseline = models.BooleanField()
    responded = models.BooleanField(null=True)
    remitted = models.BooleanField(null=True)
    reliable_improvement = models.BooleanField(null=True)
    reliable_deterioration = models.BooleanField(null=True)
    recovered = models.BooleanField(null=True)
    reliable_recovery = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["outcome", "timepoint", "infusion_number"], name="outcome_timepoint_once"
            )
        ]
        indexes = [models.Index(fields=["timepoint", "infusion_number"])]

    def __str__(self) -> str:
        return f"{self.timepoint} {self.infusion_number}: {self.score}"


class RefreshScope(models.TextChoices):
    FULL = "full", "Every course"
    CHANGED = "changed", "The courses of patients whose rows changed"


class OutcomeRefresh(models.Model):
    """One run of the recomputation: when, under which definitions, how many rows; a full
    rebuild or the drain of the changed patients (``DirtyPatient``)."""

    started_at = models.DateTimeField(default=timezone.now)
    scope = models.CharField(max_length=8, choices=RefreshScope.choices, default=RefreshScope.FULL)
    finished_at = models.DateTimeField(null=True, blank=True)
    definitions_label = models.CharField(max_length=80)
    courses = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        # the last full rebuild, read on every patient page (a drain adds a row each time)
        indexes = [models.Index(fields=["scope", "started_at"], name="outcome_refresh_scope_at")]

    def __str__(self) -> str:
        return f"outcome refresh {self.started_at:%Y-%m-%d %H:%M}"


class DirtyPatient(models.Model):
    """A patient whose outcome rows may no longer match the source rows: a score, session,
    course, evaluation or protocol of theirs was written since the rows were computed. Database
    triggers (``services.upkeep``) add the row in the writer's own transaction, whatever wrote
    it (ORM, queryset update, raw SQL, COPY); ``outcomes_current`` recomputes these patients'
    courses and deletes the rows before the clinic's figures are read. No foreign key: a
    deleted patient must still be drained (its derived rows go)."""

    patient_id = models.UUIDField(primary_key=True)

    def __str__(self) -> str:
        return f"outcomes to recompute for patient {self.patient_id}"


class ExpectedCurve(models.Model):
    """An expected-response curve for one protocol x disorder x measure cell, as fitted or as
    published. A failed or non-converged fit is kept as a row (``in_use`` False, its reason in
    ``message``) and the previous curve stays in use."""

    protocol_code = models.CharField(max_length=100)
    disorder = models.CharField(max_length=24, blank=True)
    measure = models.CharField(max_length=40)
    source = models.CharField(max_length=16)  # published, mixedlm, failed
    params = models.JSONField(default=dict)
    completed_inductions = models.PositiveIntegerField(default=0)
    in_use = models.BooleanField(default=False)
    message = models.CharField(max_length=300, blank=True)
    fitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["protocol_code", "disorder", "measure", "-fitted_at"]
        indexes = [models.Index(fields=["protocol_code", "disorder", "measure", "in_use"])]

    def __str__(self) -> str:
        return f"{self.source} curve {self.protocol_code}/{self.disorder}/{self.measure}"


class NotOnTrackFlag(models.Model):
    """A course whose score at the check infusion lies above its expected band. It tells the
    prescriber; it never changes the treatment."""

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    measure = models.CharField(max_length=40)
    infusion_number = models.PositiveIntegerField()
    baseline = models.IntegerField()
    score = models.IntegerField()
    expected = models.FloatField()
    band_upper = models.FloatField()
    curve_source = models.CharField(max_length=16)
    curve_label = models.CharField(max_length=300)
    reason = models.CharField(max_length=500)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "measure"], name="not_on_track_once")
        ]

    def __str__(self) -> str:
        return f"not on track: course {self.course_id} {self.measure}"


class ExportMode(models.TextChoices):
    SAFE_HARBOR = "safe_harbor", "Safe Harbor (45 CFR 164.514(b)(2))"
    LIMITED = "limited", "Limited data set with a data use agreement (164.514(e))"


class ResearchExport(models.Model):
    """One research export: who, when, which mode and format, under which agreement, and the
    notes that travel with it (k-anonymity of the quasi-identifiers)."""

    mode = models.CharField(max_length=16, choices=ExportMode.choices)
    file_format = models.CharField(max_length=8)  # csv or ndjson
    dua_reference = models.CharField(max_length=200, blank=True)
    patients = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    k_anonymity = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"research export {self.pk} ({self.mode})"


class PublicFigure(models.Model):
    """A clinic figure the administrator chose for the public site. It shows only once a
    clinician has approved it, and only the cells with at least ``min_patients`` patients; its
    snapshot (counts, denominators, definition, period, comparisons) is refreshed by a job."""

    measure = models.CharField(max_length=40)
    timepoint = models.CharField(max_length=24)
    disorder = models.CharField(max_length=24, blank=True)
    min_patients = models.PositiveIntegerField(default=20)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["-chosen_at"]

    def __str__(self) -> str:
        return f"public figure {self.measure} {self.timepoint} {self.disorder}"


class SessionSafetyRow(models.Model):
    """One given infusion's safety figures, derived from its chart (``services.safety_rows``):
    its dose, its peak blood-pressure rise over the pre-infusion baseline, its peak
    dissociation scores, its planned and infused minutes, its side effects charted. Kept
    current like the outcome rows (the same change triggers mark its patient; the drain
    recomputes the marked patients' sessions), so that the page's safety section is a few
    grouped aggregates over these rows. Values that depend on versioned definitions (the dose
    band, the early-stop margin) are applied when the page reads, never stored."""

    session_id = models.UUIDField(primary_key=True)
    course_id = models.UUIDField(db_index=True)
    patient_id = models.UUIDField(db_index=True)
    weight_based = models.BooleanField()  # the protocol doses by mg/kg
    mg_per_kg = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    systolic_rise = models.IntegerField(null=True, blank=True)
    diastolic_rise = models.IntegerField(null=True, blank=True)
    cadss = models.IntegerField(null=True, blank=True)  # peak CADSS (0-92)
    dissociation_0_4 = models.IntegerField(null=True, blank=True)  # peak 0-4 rating
    planned_minutes = models.IntegerField(null=True, blank=True)
    # Minutes infused (start to stop, less pauses), as ``rules.safety.infused_minutes``
    # computes them; None when the start or the stop is not charted.
    infused_minutes = models.FloatField(null=True, blank=True)
    side_effects = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"safety of session {self.session_id}"
