"""Single-use questionnaire links and kiosk sessions: making them, opening them, answering.

A link is a random token in a URL; only its SHA-256 is stored. Whoever holds it may answer the
link's instruments for the link's patient, once, before it expires; the patient is taken from
the link row only, never from the request. Answers are recorded through
``services.administration_record`` on behalf of the staff member who made the link (the
patient has no account of their own to act with), with the link's mode, so that the
administration shows it was answered by the patient or at the kiosk.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import token_hash
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.patients.models import Patient
from ketaclinic.scales import instruments, services
from ketaclinic.scales.models import (
    Administration,
    IncompleteResponse,
    LinkMode,
    PatientLink,
    RequestCount,
)

DEFAULT_HOURS: Final = 72
MAX_HOURS: Final = 14 * 24
KIOSK_HOURS: Final = 2
"""A kiosk session is for the patient in the waiting room now, not for later."""

RATE_LIMIT: Final = 20
RATE_WINDOW: Final = timedelta(minutes=10)
"""Requests to questionnaire links from one address per window: enough for a patient with a
few instruments and a reload or two; far too few to guess a 256-bit token."""

TOKEN_BYTES: Final = 32


class LinkGone(Exception):
    """The link was used or has expired: answer 410 Gone, store nothing."""


class LinkUnknown(Exception):
    """No link has this token."""


@dataclass(frozen=True)
class IssuedLink:
    link: PatientLink
    token: str


def self_report_codes() -> list[str]:
    """The instruments a patient may answer alone, in the built-in order."""
    return [c for c in instruments.BUILTIN_CODES if "self" in instruments.get(c).respondents]


def _instrument_codes(codes: Sequence[str]) -> list[str]:
    unique: list[str] = []
    problems: list[str] = []
    for code in codes:
        if code not in instruments.BUILTIN_CODES:
            problems.append(f"{code!r} is not an instrument")
        elif "self" not in instruments.get(code).respondents:
            problems.append(f"{code!r} is not answered by the patient (clinician-rated)")
        elif code not in unique:
            unique.append(code)
    if not unique and not problems:
        problems.append("choose at least one instrument")
    if problems:
        raise ValidationError({"instruments": problems})
    return unique


@transaction.atomic
def patient_link_create(
    *,
    acting_user: Any,
    patient: Patient,
    instrument_codes: Sequence[str],
    hours: int = DEFAULT_HOURS,
    mode: LinkMode | str = LinkMode.PATIENT_SELF,
) -> IssuedLink:
    """Make a link; the token is returned once and never stored."""
    require(acting_user, "scales.enter")
    codes = _instrument_codes(instrument_codes)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise ValidationError({"hours": [f"must be a whole number from 1 to {MAX_HOURS}"]})
    if mode not in LinkMode.values:
        raise ValidationError({"mode": [f"one of {', '.join(LinkMode.values)}"]})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PatientLink(
        token_hash=token_hash(token),
        patient=patient,
        instruments=codes,
        mode=LinkMode(mode),
        expires_at=timezone.now() + timedelta(hours=hours),
        created_by=acting_user,
    )
    link.full_clean(exclude=["patient", "created_by"])
    link.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="PatientLink",
        object_id=link.pk,
        patient_id=patient.pk,
    )
    return IssuedLink(link=link, token=token)


def kiosk_session_start(
    *, acting_user: Any, patient: Patient, instrument_codes: Sequence[str]
) -> IssuedLink:
    """A kiosk session is a short-lived link opened on the clinic's tablet."""
    return patient_link_create(
        acting_user=acting_user,
        patient=patient,
        instrument_codes=instrument_codes,
        hours=KIOSK_HOURS,
        mode=LinkMode.KIOSK,
    )


def patient_link_find(token: str) -> PatientLink:
    """The link with this token, used or not; LinkUnknown when there is none.
    Opening a link is not audited: it shows no patient data."""
    if not token or len(token) > 100:
        raise LinkUnknown
    link = PatientLink.objects.filter(token_hash=token_hash(token)).first()
    if link is None:
        raise LinkUnknown
    return link


def patient_link_answer(
    *,
    token: str,
    answers_by_instrument: Mapping[str, Mapping[str, int]],
    administered_at: datetime | None = None,
) -> list[Administration]:
    """Record the answers of every instrument of the link, and use the link up, together.

    Answers for instruments the link does not ask are refused. LinkGone when the link was
    used or expired (nothing stored); ValidationError (keys ``<code>.answers.<link_id>``)
    when answers are invalid (nothing stored, the link stays usable).
    """
    moment = administered_at or timezone.now()
    with transaction.atomic():
        link = (
            PatientLink.objects.select_for_update()
            .select_related("patient", "created_by")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if link is None:
            raise LinkUnknown
        if not link.is_usable(timezone.now()):
            raise LinkGone
        extra = sorted(set(answers_by_instrument) - set(link.instruments))
        if extra:
            raise ValidationError({"instruments": [f"not asked by this link: {', '.join(extra)}"]})
        recorded: list[Administration] = []
        errors: dict[str, list[ValidationError]] = {}
        for code in link.instruments:
            try:
                # A savepoint each, so that one invalid instrument leaves the others unsaved too.
                with transaction.atomic():
                    recorded.append(
                        services.administration_record(
                            acting_user=link.created_by,
                            patient=link.patient,
                            instrument_code=code,
                            answers=answers_by_instrument.get(code, {}),
                            administered_at=moment,
                            mode=link.mode,
                        )
                    )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault(f"{code}.{field}", []).extend(
                        ValidationError(message) for message in messages
                    )
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(errors)
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        audit_record(
            actor=None,
            action=Action.UPDATE,
            object_type="PatientLink",
            object_id=link.pk,
            patient_id=link.patient_id,
        )
    return recorded


def patient_link_incomplete_keep(
    *,
    token: str,
    answers_by_instrument: Mapping[str, Mapping[str, int]],
    administered_at: datetime | None = None,
) -> list[IncompleteResponse]:
    """Answers to a usable link refused as incomplete still open the urgent flags they raise
    (PHQ-9 item 9, whatever the total): each instrument's answers go to
    ``services.incomplete_response_keep`` on behalf of the link's maker, with the link's
    mode. The link stays usable, so that the patient can complete it; nothing else is stored.
    """
    moment = administered_at or timezone.now()
    link = (
        PatientLink.objects.select_related("patient", "created_by")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None or not link.is_usable(timezone.now()):
        return []
    kept: list[IncompleteResponse] = []
    for code in link.instruments:
        try:
            row = services.incomplete_response_keep(
                acting_user=link.created_by,
                patient=link.patient,
                instrument_code=code,
                answers=answers_by_instrument.get(code, {}),
                administered_at=moment,
                mode=link.mode,
            )
        except ValidationError:
            continue
        if row is not None:
            kept.append(row)
    return kept


def rate_limit_allows(
    key: str, *, limit: int = RATE_LIMIT, window: timedelta = RATE_WINDOW
) -> bool:
    """Count one request for ``key`` in the current fixed window; False past ``limit``."""
    now = timezone.now()
    seconds = int(window.total_seconds())
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)
    key = key[:100]
    with transaction.atomic():
        updated = RequestCount.objects.filter(key=key, window_start=start).update(
            count=F("count") + 1
        )
        if not updated:
            try:
                with transaction.atomic():
                    RequestCount.objects.create(key=key, window_start=start, count=1)
            except IntegrityError:  # another request created it first
                RequestCount.objects.filter(key=key, window_start=start).update(
                    count=F("count") + 1
                )
            # Old windows are of no use: drop them when a new one starts.
            RequestCount.objects.filter(window_start__lt=start - window).delete()
        count = RequestCount.objects.get(key=key, window_start=start).count
    return count <= limit
