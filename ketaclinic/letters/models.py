"""Referrals in and letters out.

An inbound referral (who referred, why, their letter as a PDF) is attached to an inquiry and
reaches the patient record when the inquiry is converted. Outbound letters are drafted from a
template (data with published defaults, ``rules/data/default_templates.json``; the
administrator's versions in ``LetterTemplate``), edited, and signed by a clinician: signing
stores the snapshot's canonical JSON, its SHA-256 and the PDF's bytes, and the row never
changes after. Each sending (e-mail or print) is a row of its own.

Files are kept in the database (``BinaryField``), not on a disk beside it: a referral letter
and a signed letter are part of the record, so they are backed up, restored and rolled back
with it, and there is no second place where a patient's document could be left behind. They
are small (``REFERRAL_MAX_BYTES``; a letter is a few kilobytes).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ketaclinic.patients.models import Patient


class ReferrerRole(models.TextChoices):
    GP = "gp", "General practitioner (GP)"
    PSYCHIATRIST = "psychiatrist", "Psychiatrist"
    THERAPIST = "therapist", "Therapist"
    OTHER = "other", "Other clinician"


class Referral(models.Model):
    """A referral received from another clinician. Written once; never changed, except that
    the conversion of its inquiry links it to the new patient record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(
        "intake.Inquiry", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    referrer_name = models.CharField(max_length=200)
    referrer_organisation = models.CharField(max_length=200, blank=True)
    referrer_role = models.CharField(max_length=16, choices=ReferrerRole.choices)
    referrer_email = models.EmailField(max_length=254, blank=True)
    referrer_phone = models.CharField(max_length=40, blank=True)
    referrer_address = models.TextField(max_length=1000, blank=True)
    reason = models.TextField(max_length=5000)
    received_on = models.DateField()
    letter_pdf = models.BinaryField(null=True, blank=True, editable=False)
    letter_name = models.CharField(max_length=120, blank=True)
    letter_size = models.PositiveIntegerField(default=0)
    letter_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["patient", "created_at"]),
            models.Index(fields=["inquiry", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}"


class RecipientKind(models.TextChoices):
    REFERRER = "referrer", "Referring clinician"
    GP = "gp", "GP"
    THERAPIST = "therapist", "Therapist"


class Recipient(models.Model):
    """One of the patient's other clinicians, to whom letters go."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letter_recipients")
    kind = models.CharField(max_length=12, choices=RecipientKind.choices)
    name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    address = models.TextField(max_length=1000, blank=True)
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="recipients"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["patient", "kind"])]

    def __str__(self) -> str:
        return f"recipient {self.pk}"


class LetterKind(models.TextChoices):
    EVALUATION = "evaluation", "After the evaluation"
    INDUCTION = "induction", "After the induction series"
    DISCHARGE = "discharge", "Discharge from the programme"


class LetterTemplate(models.Model):
    """One version of a kind's template, made by the administrator. With no active version of
    a kind, the published default (``rules/data/default_templates.json``) is used."""

    kind = models.CharField(max_length=12, choices=LetterKind.choices)
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=10_000)
    note = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="letters_template_version"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(active=True), name="letters_template_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} template v{self.version}"


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class Letter(models.Model):
    """A letter about a patient to one of their clinicians. A draft is edited; a signed letter
    (snapshot, digest, PDF) never changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=12, choices=LetterKind.choices)
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="letters")
    template_version = models.PositiveIntegerField(
        default=0, help_text="The administrator's template version; 0 is the published default."
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=20_000)
    facts = models.JSONField(
        default=dict, help_text="What the record said when drafted: scores, decision, sessions."
    )
    status = models.CharField(
        max_length=8, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drafted_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(null=True, blank=True, help_text="What was signed.")
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the snapshot.")
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-drafted_at"]
        indexes = [
            models.Index(fields=["patient", "drafted_at"]),
            models.Index(fields=["status", "signed_at"]),
        ]

    def __str__(self) -> str:
        return f"letter {self.pk}"


class SendMethod(models.TextChoices):
    EMAIL = "email", "Sent by e-mail"
    PRINT = "print", "Printed (posted or handed over)"


class LetterSending(models.Model):
    """One sending of a signed letter: who, when, how, to whom. Written once."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="sendings")
    method = models.CharField(max_length=8, choices=SendMethod.choices)
    to_name = models.CharField(max_length=200)
    to_address = models.CharField(max_length=1000, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["letter", "sent_at"])]

    def __str__(self) -> str:
        return f"sending {self.pk}"
