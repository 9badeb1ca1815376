"""Inquiries from the public and their pipeline (contact attempts, status changes), as stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ketaclinic.intake.self_screen import self_screen_record_problems, self_screen_summaries


class Concern(models.TextChoices):
    GENERALIZED_ANXIETY = "generalized_anxiety", _("Generalized anxiety")
    SOCIAL_ANXIETY = "social_anxiety", _("Social anxiety")
    PANIC_DISORDER = "panic_disorder", _("Panic disorder")
    OCD = "ocd", _("Obsessive-compulsive disorder (OCD)")
    OTHER = "other", _("Something else")


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class InquiryStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    SCREENING_BOOKED = "screening_booked", "Screening booked"
    EVALUATION_BOOKED = "evaluation_booked", "Evaluation booked"
    EVALUATED = "evaluated", "Evaluated"
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    DECLINED = "declined", "Declined"
    CLOSED = "closed", "Closed"


def validate_concerns(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("must be a list of concern codes")
    unknown = sorted(set(value) - set(Concern.values))
    if unknown:
        raise ValidationError(f"unknown concerns: {', '.join(unknown)}")
    if len(set(value)) != len(value):
        raise ValidationError("a concern is listed twice")


def validate_self_screen(value: Any) -> None:
    problems = self_screen_record_problems(value)
    if problems:
        raise ValidationError("; ".join(problems))


class Inquiry(models.Model):
    """Someone asking the clinic about treatment. Not a patient yet: no record, no MRN."""

    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_contact = models.CharField(
        max_length=8, choices=ContactMethod.choices, default=ContactMethod.EMAIL
    )
    concerns = models.JSONField(default=list, blank=True, validators=[validate_concerns])
    prior_treatments = models.TextField(max_length=5000, blank=True)
    message = models.TextField(max_length=5000, blank=True)
    heard_about = models.CharField(max_length=200, blank=True)
    consent_to_contact = models.BooleanField(default=False)
    # The anonymous self-screen the person chose to attach: answers with their scores,
    # recomputed on the server (see intake/self_screen.py).
    self_screen = models.JSONField(default=list, blank=True, validators=[validate_self_screen])
    status = models.CharField(
        max_length=20, choices=InquiryStatus.choices, default=InquiryStatus.NEW
    )
    is_spam = models.BooleanField(default=False)
    follow_up_on = models.DateField(
        null=True, blank=True, help_text="When intake should next contact this person."
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
        help_text="The patient record this inquiry was converted into.",
    )
    client_address = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "inquiries"
        indexes = [
            # the rate limit: inquiries from one address in the last hour
            models.Index(fields=["client_address", "created_at"]),
            # the staff list, newest first
            models.Index(fields=["is_spam", "-created_at"]),
            # the board's due follow-ups
            models.Index(fields=["is_spam", "follow_up_on"]),
        ]

    def __str__(self) -> str:
        return f"inquiry #{self.pk} ({self.status})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.email and not self.phone:
            errors["email"] = "Give an e-mail address or a phone number (or both)."
        elif self.preferred_contact == ContactMethod.EMAIL and not self.email:
            errors["preferred_contact"] = "You asked to be e-mailed: give an e-mail address."
        elif self.preferred_contact == ContactMethod.PHONE and not self.phone:
            errors["preferred_contact"] = "You asked to be phoned: give a phone number."
        if self.consent_to_contact is not True:
            errors["consent_to_contact"] = "We can only answer if you agree to be contacted."
        if errors:
            raise ValidationError(errors)

    @property
    def concern_labels(self) -> list[str]:
        labels = dict(Concern.choices)
        return [str(labels.get(code, code)) for code in self.concerns]

    @property
    def self_screen_summaries(self) -> list[dict[str, Any]]:
        return self_screen_summaries(self.self_screen)

    @property
    def self_screen_item9_positive(self) -> bool:
        return any(record.get("item9_positive") is True for record in self.self_screen)


# The inquiry pipeline: contact attempts and the history of status changes. Both are written
# once, by the pipeline services (``intake/services/pipeline.py``), and never changed.


class AttemptMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message (SMS)"
    IN_PERSON = "in_person", "In person"


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    WRONG_NUMBER = "wrong_number", "Wrong number or address"
    BOUNCED = "bounced", "E-mail bounced"


class ContactAttempt(models.Model):
    """Intake tried to reach the person who sent an inquiry."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=AttemptMethod.choices)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["inquiry", "-attempted_at"])]

    def __str__(self) -> str:
        return f"contact attempt {self.pk} ({self.outcome})"


class InquiryStatusChange(models.Model):
    """One move of an inquiry from one status to another, with who, when and why."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=InquiryStatus.choices)
    to_status = models.CharField(max_length=20, choices=InquiryStatus.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["inquiry", "-changed_at"])]

    def __str__(self) -> str:
        return f"inquiry {self.inquiry_id}: {self.from_status} -> {self.to_status}"
