"""Eligibility and consent, as stored. Rows here are written once and never changed.

Eligibility: rule-set versions, evaluations with their proposals, clinicians' decisions. An
evaluation keeps its input, the proposal the engine made and the rule-set version it used, so
that editing the rules later changes no proposal already made. A decision keeps a snapshot of
what was decided on and its SHA-256.

Consent: versioned documents, single-use signing links and signatures. A document version is
never edited: a change is a new version, which becomes the active one. A signature names the
version it signs and keeps that version's digest. Only the SHA-256 of a link's token is stored.

The services, API and pages are the ``evaluation_*`` and ``consent_*`` modules next to this one.
"""

from __future__ import annotations

from datetime import datetime

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
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["patient", "-decided_at", "-id"])]

    def __str__(self) -> str:
        return f"decision {self.pk}: {self.decision}"


class ConsentDocument(models.Model):
    """One version of a consent document (its code names the document across versions)."""

    code = models.SlugField(max_length=40)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=50_000)
    effective_from = models.DateField()
    active = models.BooleanField(default=True)
    required = models.BooleanField(
        default=True, help_text="A course may start only when the patient signed this version."
    )
    digest = models.CharField(max_length=64, help_text="SHA-256 of the version's text.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="intake_consentdoc_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(active=True), name="intake_consentdoc_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class SignatureMethod(models.TextChoices):
    TABLET = "tablet", "Signed on the clinic's tablet"
    LINK = "link", "Signed through a single-use link"
    WITNESSED = "witnessed", "Signed in person, witnessed by staff"


class ConsentLink(models.Model):
    """A link that lets whoever holds it sign ``documents`` for ``patient``, once, before
    ``expires_at``. The patient comes only from this row, never from what is posted."""

    token_hash = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_links")
    documents = models.ManyToManyField(ConsentDocument, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"consent link {self.pk}"

    def is_usable(self, now: datetime | None = None) -> bool:
        moment = now if now is not None else timezone.now()
        return self.used_at is None and moment < self.expires_at


class ConsentSignature(models.Model):
    """A patient's signature on one document version. Written once, never changed."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="consent_signatures"
    )
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    document_digest = models.CharField(max_length=64)
    signed_name = models.CharField(max_length=200)
    signature_image = models.TextField(
        blank=True, help_text="The drawn signature, a PNG data URL; empty when witnessed."
    )
    method = models.CharField(max_length=12, choices=SignatureMethod.choices)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who recorded it, opened the tablet or made the link.",
    )
    link = models.ForeignKey(
        ConsentLink, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )
    signed_at = models.DateTimeField(default=timezone.now, editable=False)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the signature's snapshot.")

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "document"])]

    def __str__(self) -> str:
        return f"consent signature {self.pk}"
