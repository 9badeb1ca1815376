"""Consent, as stored. Rows here are written once and never changed.

Versioned documents, single-use signing links and signatures. A document version is never edited:
a change is a new version, which becomes the active one. A signature names the version it signs
and keeps that version's digest. Only the SHA-256 of a link's token is stored.

The tables keep the names they had when these models lived in the intake app (``db_table``).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ketaclinic.patients.models import Patient


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
        db_table = "intake_consentdocument"
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
        db_table = "intake_consentlink"
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
        db_table = "intake_consentsignature"
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "document"])]

    def __str__(self) -> str:
        return f"consent signature {self.pk}"
