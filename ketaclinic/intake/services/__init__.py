"""Writes of intake: public inquiries (``inquiries``) and the pipeline that follows them
(``pipeline``: status changes, contact attempts, spam, conversion into a patient)."""

from __future__ import annotations

from ketaclinic.intake.services.inquiries import (
    NOTIFY_ATTEMPTS,
    NOTIFY_BACKOFF_SECONDS,
    InquiryRateLimited,
    inquiry_count_recent,
    inquiry_create,
    inquiry_notify,
    inquiry_notify_recipients,
    inquiry_rate_limit,
)
from ketaclinic.intake.services.pipeline import (
    CONVERSION_NOTE,
    ELIGIBILITY_NOTES,
    AlreadyConverted,
    inquiries_follow_eligibility,
    inquiry_contact_log,
    inquiry_convert,
    inquiry_spam_set,
    inquiry_status_change,
)

__all__ = [
    "CONVERSION_NOTE",
    "ELIGIBILITY_NOTES",
    "NOTIFY_ATTEMPTS",
    "NOTIFY_BACKOFF_SECONDS",
    "AlreadyConverted",
    "InquiryRateLimited",
    "inquiries_follow_eligibility",
    "inquiry_contact_log",
    "inquiry_convert",
    "inquiry_count_recent",
    "inquiry_create",
    "inquiry_notify",
    "inquiry_notify_recipients",
    "inquiry_rate_limit",
    "inquiry_spam_set",
    "inquiry_status_change",
]
