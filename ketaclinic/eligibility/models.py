"""Eligibility, as stored. Rows here are written once and never changed.

Rule-set versions, evaluations with their proposals, clinicians' decisions. An
evaluation keeps its input, the proposal the engine made and the rule-set version it used, so
that editing the rules later changes no proposal already made. A decision keeps a snapshot of
what was decided on and its SHA-256.

The tables keep the names they had when these models lived in the intake app (``db_table``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ketaclinic.patients.models import Patient


class RuleSetVersion(models.Model):
    """One version of the eligibility rules, as the JSON that ``ruleset_from_json`` reads."""

    version = models.CharField(max_length=40, unique=True)
    rules_json = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the shipped default.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "intake_rulesetversion"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="intake_one_active_ruleset"
            )
        ]

    def __str__(self) -> str:
        return f"rule set {self.version}{' (active)' if self.active else ''}"


class ProposalOutcome(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NEEDS_REVIEW = "needs_review", "Needs review"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"


class Evaluation(models.Model):
    """A clinician's eligibility evaluation and the proposal the rules made from it."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="eligibility_evaluations"
    )
    input_json = models.JSONField(help_text="The evaluation as submitted.")
    proposal_json = models.JSONField(help_text="The engine's proposal, reasons' texts included.")
    outcome = models.CharField(max_length=16, choices=ProposalOutcome.choices)
    ruleset = models.ForeignKey(
        RuleSetVersion, on_delete=models.PROTECT, related_name="evaluations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "intake_evaluation"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def __str__(self) -> str:
        return f"evaluation {self.pk} ({self.outcome})"


class DecisionChoice(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    DEFERRED = "deferred", "Deferred"


class EligibilityDecision(models.Model):
    """A clinician's signed decision on an evaluation. Never updated: a later decision is a
    new row, and the latest one counts."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="decisions")
    # The evaluation's patient, kept here so that the banner and the course start read the
    # latest decision in one query.
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="eligibility_decisions"
    )
    decision = models.CharField(max_length=16, choices=DecisionChoice.choices)
    rationale = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now, editable=False)
    snapshot = models.JSONField(help_text="What was decided on, as signed.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the snapshot's canonical JSON.")

    class Meta:
        db_table = "intake_eligibilitydecision"
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["patient", "-decided_at", "-id"])]

    def __str__(self) -> str:
        return f"decision {self.pk}: {self.decision}"


class RecordSource(models.TextChoices):
    EVALUATION = "evaluation", "Eligibility evaluation"
    IMPORT = "import", "Imported (FHIR)"


class ConditionCategory(models.TextChoices):
    # http://terminology.hl7.org/CodeSystem/condition-category
    ENCOUNTER_DIAGNOSIS = "encounter-diagnosis", "Encounter diagnosis"
    PROBLEM_LIST_ITEM = "problem-list-item", "Problem list item"


class Diagnosis(models.Model):
    """One diagnosis as recorded: from an evaluation's list when the evaluation is saved, or
    from an imported FHIR Condition. Written once, never changed (an evaluation is never
    edited; a later one records its own rows). Served as a FHIR Condition."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="diagnoses")
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="diagnosis_rows"
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the evaluation.")
    source = models.CharField(max_length=16, choices=RecordSource.choices)
    icd10 = models.CharField("ICD-10-CM", max_length=16, blank=True)
    snomed = models.CharField("SNOMED CT", max_length=20, blank=True)
    display = models.CharField(max_length=300)
    category = models.CharField(
        max_length=24,
        choices=ConditionCategory.choices,
        default=ConditionCategory.ENCOUNTER_DIAGNOSIS,
    )
    # http://terminology.hl7.org/CodeSystem/condition-clinical and condition-ver-status
    clinical_status = models.CharField(max_length=16, default="active", blank=True)
    verification_status = models.CharField(max_length=20, default="confirmed")
    severity = models.CharField(max_length=16, blank=True, help_text="mild, moderate or severe.")
    evidence = models.CharField(max_length=300, blank=True, help_text="What it rests on, in words.")
    onset = models.DateTimeField(null=True, blank=True)
    abatement = models.DateTimeField(null=True, blank=True, help_text="When it resolved.")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["recorded_at", "position", "id"]
        indexes = [
            models.Index(fields=["patient", "recorded_at"], name="elig_diagnosis_patient_at")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(icd10="", snomed=""), name="elig_diagnosis_has_code"
            ),
        ]

    def __str__(self) -> str:
        return f"diagnosis {self.icd10 or self.snomed}"


class Allergy(models.Model):
    """One allergy as recorded with an evaluation (or "no known allergies": ``no_known``).
    Written once, never changed. Served as a FHIR AllergyIntolerance."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="allergy_rows"
    )
    position = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=16, choices=RecordSource.choices)
    substance = models.CharField(max_length=300, blank=True, help_text="As the clinician typed it.")
    no_known = models.BooleanField(default=False, help_text="The clinician recorded none.")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["recorded_at", "position", "id"]
        indexes = [models.Index(fields=["patient", "recorded_at"], name="elig_allergy_patient_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(no_known=True, substance="") | (Q(no_known=False) & ~Q(substance="")),
                name="elig_allergy_substance_or_none",
            ),
        ]

    def __str__(self) -> str:
        return "no known allergies" if self.no_known else f"allergy {self.pk}"
