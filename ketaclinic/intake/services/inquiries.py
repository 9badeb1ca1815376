"""Inquiries from the public: stored first, then intake staff are told by e-mail after commit.

An inquiry is not patient data in the clinical record yet (there is no patient), so creating one
writes no audit event; reading them does (see selectors).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.intake.models import Inquiry
from ketaclinic.intake.self_screen import SelfScreenInvalid, self_screen_score_all

logger = logging.getLogger(__name__)

NOTIFY_ATTEMPTS = 3
NOTIFY_BACKOFF_SECONDS = (1.0, 3.0)


class InquiryRateLimited(Exception):
    """Too many inquiries from one client address in the last hour."""


def inquiry_rate_limit() -> int:
    # Read at call time, so that tests and a changed setting apply without a restart.
    return int(settings.KETACLINIC_INQUIRY_RATE_PER_HOUR)


def inquiry_count_recent(client_address: str) -> int:
    since = timezone.now() - timedelta(hours=1)
    return Inquiry.objects.filter(client_address=client_address, created_at__gte=since).count()


@transaction.atomic
def inquiry_create(
    *,
    client_address: str,
    name: str,
    email: str = "",
    phone: str = "",
    preferred_contact: str = "email",
    concerns: Sequence[str] = (),
    prior_treatments: str = "",
    message: str = "",
    heard_about: str = "",
    consent_to_contact: bool = False,
    self_screen: Sequence[Mapping[str, Any]] = (),
    is_spam: bool = False,
) -> Inquiry:
    """Store an inquiry from the public site or API.

    Raises django.core.exceptions.ValidationError with every field problem, or
    InquiryRateLimited past KETACLINIC_INQUIRY_RATE_PER_HOUR from one address (counted in the
    database, so the limit holds across server processes); nothing is stored then. A spam
    inquiry (the honeypot was filled in) is stored, flagged, and nobody is notified.

    ``self_screen`` is ``[{"instrument": "gad7" | "phq9", "answers": {link_id: weight}}]``:
    only the answers are taken; totals, bands and the PHQ-9 item 9 flag are computed here.
    Its problems are reported as ``self_screen.<index>.answers.<link_id>`` and the like.
    """
    errors: dict[str, list[str]] = {}
    try:
        screens = self_screen_score_all(self_screen)
    except SelfScreenInvalid as invalid:
        errors = {f"self_screen.{path}": [msg] for path, msg in invalid.problems.items()}
        screens = []
    inquiry = Inquiry(
        name=name,
        email=email,
        phone=phone,
        preferred_contact=preferred_contact,
        concerns=list(concerns),
        prior_treatments=prior_treatments,
        message=message,
        heard_about=heard_about,
        consent_to_contact=consent_to_contact,
        self_screen=[screen.as_record() for screen in screens],
        is_spam=is_spam,
        client_address=client_address[:64],
    )
    try:
        inquiry.full_clean()
    except ValidationError as invalid:
        errors.update(invalid.message_dict)
    if errors:
        raise ValidationError(errors)
    # On SQLite the transaction holds the write lock from BEGIN, so count and insert cannot
    # interleave with another process; on PostgreSQL two racing requests may both pass at the
    # limit, which lets one extra inquiry in: acceptable for a spam brake.
    if inquiry_count_recent(inquiry.client_address) >= inquiry_rate_limit():
        raise InquiryRateLimited
    inquiry.save(force_insert=True)
    if not is_spam:
        inquiry_id = inquiry.pk
        transaction.on_commit(lambda: inquiry_notify(inquiry_id=inquiry_id))
    return inquiry


def inquiry_notify_recipients() -> list[str]:
    """E-mail addresses of the active intake staff."""
    rows = User.objects.filter(role=Role.INTAKE.value, is_active=True).exclude(email="")
    return sorted(set(rows.values_list("email", flat=True)))


def inquiry_notify(*, inquiry_id: int, sleep: Callable[[float], None] = time.sleep) -> bool:
    """Tell intake staff that an inquiry arrived; retried a few times. True when sent.

    The e-mail names no one and says nothing about health: staff read the inquiry in the
    clinic system, where the read is audited. Failures are logged with the inquiry id only.
    """
    recipients = inquiry_notify_recipients()
    if not recipients:
        logger.warning("inquiry %s: no intake staff with an e-mail address to notify", inquiry_id)
        return False
    subject = f"New inquiry #{inquiry_id}"
    body = (
        f"A new inquiry (#{inquiry_id}) has arrived through the clinic's website.\n\n"
        f"Read it in KetaClinic: {reverse('intake:inquiries')}\n\n"
        "This e-mail deliberately holds no personal or health details."
    )
    for attempt in range(1, NOTIFY_ATTEMPTS + 1):
        try:
            send_mail(subject, body, None, recipients, fail_silently=False)
        except Exception as exc:  # any mail failure (SMTP, socket, backend) is retried
            logger.warning(
                "inquiry %s: notification attempt %d of %d failed (%s)",
                inquiry_id,
                attempt,
                NOTIFY_ATTEMPTS,
                type(exc).__name__,
            )
            if attempt < NOTIFY_ATTEMPTS:
                sleep(NOTIFY_BACKOFF_SECONDS[min(attempt - 1, len(NOTIFY_BACKOFF_SECONDS) - 1)])
        else:
            return True
    logger.error("inquiry %s: notification not sent after %d attempts", inquiry_id, NOTIFY_ATTEMPTS)
    return False
