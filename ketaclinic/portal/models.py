"""The patient portal's own records: invitations to open an account, a patient's "I have a
ride home" for a session, and the contact details a patient changed themselves."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class PatientInvitation(models.Model):
    """Staff invite a patient by e-mail to open their portal account. The link's token is a
    Django password-reset-style token (``services/invitations.py``), never stored; it stops
    working once the invitation is accepted, replaced by a newer one, or past ``expires_at``."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_invitations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="portal_invitations"
    )
    email = models.EmailField(max_length=254)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-invited_at", "-pk"]
        indexes = [models.Index(fields=["patient", "invited_at"])]

    def __str__(self) -> str:
        return f"portal invitation {self.pk}"

    def is_open(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > moment


class RideConfirmation(models.Model):
    """The patient's word that someone will take them home after a session (the protocol's
    escort at discharge, no driving until the next day). The nurse sees it at check-in."""

    session = models.OneToOneField(
        "infusions.Session", on_delete=models.PROTECT, related_name="ride_confirmation"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    escort_name = models.CharField(max_length=100, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"ride confirmation for session {self.session_id}"


class ContactChange(models.Model):
    """A patient's own change of their contact details: which fields, before and after.
    Append-only; the audit trail holds the matching update of the Patient."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_contact_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now, editable=False)
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["patient", "changed_at"])]

    def __str__(self) -> str:
        return f"contact change {self.pk}"


class LanguagePreference(models.Model):
    """The language a patient chose for their pages (``settings.LANGUAGES``), kept on their
    portal record so that it follows them to any device after they sign in
    (``ketaclinic/portal/middleware.py``). No row: the language of the browser or the cookie."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_language"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"language {self.language} for patient {self.patient_id}"
