"""Reads of referrals, recipients and letters: access checked, rows preloaded, reads audited.

Staff read through their role's permission; a patient reads only the letters about them that
were sent (their copy), through the portal, never a referral or a draft."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, QuerySet, UUIDField

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_reads, audit_record_many
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.intake.models import Inquiry
from ketaclinic.letters.models import Letter, LetterSending, LetterStatus, Recipient, Referral
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to

LIST_LIMIT = 100
# A list shows what it names; the bytes are read only by the download.
_REFERRAL_LIST_FIELDS = (
    "id",
    "inquiry_id",
    "patient_id",
    "referrer_name",
    "referrer_organisation",
    "referrer_role",
    "referrer_email",
    "referrer_phone",
    "reason",
    "received_on",
    "letter_name",
    "letter_size",
    "created_at",
)
_LETTER_LIST_FIELDS = (
    "id",
    "patient_id",
    "kind",
    "recipient_id",
    "subject",
    "status",
    "drafted_at",
    "signed_at",
    "drafted_by_id",
    "signed_by_id",
)


def _uuid(raw: UUID | str) -> UUID | None:
    try:
        return raw if isinstance(raw, UUID) else UUID(str(raw))
    except ValueError:
        return None


def referrals_for_inquiry(user: Any, inquiry: Inquiry) -> list[Referral]:
    require(user, "referral.manage")
    rows = list(
        Referral.objects.filter(inquiry=inquiry)
        .only(*_REFERRAL_LIST_FIELDS)
        .order_by("-created_at")[:LIST_LIMIT]
    )
    audit_reads(user, "Referral", rows)
    return rows


# The patient page's two reads, compiled once per process (lib/compiled_read.py).
_PATIENT_REFERRALS = CompiledRead(
    lambda: (
        Referral.objects.filter(patient_id=Slot("patient", UUIDField()))
        .only(*_REFERRAL_LIST_FIELDS)
        .order_by("-created_at")[:LIST_LIMIT]
    )
)
_PATIENT_LETTERS = CompiledRead(
    lambda: (
        Letter.objects.filter(patient_id=Slot("patient", UUIDField()))
        .select_related("recipient", "drafted_by", "signed_by")
        .only(
            *_LETTER_LIST_FIELDS,
            "recipient__name",
            "recipient__kind",
            "drafted_by__username",
            "signed_by__username",
        )
        .order_by("-drafted_at")[:LIST_LIMIT]
    )
)


def referrals_for_patient(user: Any, patient: Patient) -> list[Referral]:
    """``patient`` comes from ``patient_get_for_user``; staff only (letter.view)."""
    require(user, "letter.view")
    rows: list[Referral] = _PATIENT_REFERRALS.objects(patient=patient.pk)
    audit_reads(user, "Referral", rows)
    return rows


def referral_get_for_user(user: Any, referral_id: UUID | str) -> Referral:
    """One referral with its letter; Referral.DoesNotExist (404) for a bad id. Staff who
    work inquiries or read letters."""
    if not (user_can(user, "referral.manage") or user_can(user, "letter.view")):
        raise Referral.DoesNotExist
    pk = _uuid(referral_id)
    if pk is None:
        raise Referral.DoesNotExist
    referral = Referral.objects.select_related("created_by").get(pk=pk)
    audit_reads(user, "Referral", [referral])
    return referral


def recipients_for_patient(user: Any, patient: Patient) -> list[Recipient]:
    require(user, "letter.view")
    rows = list(Recipient.objects.filter(patient=patient).order_by("kind", "name"))
    audit_reads(user, "LetterRecipient", rows)
    return rows


def letters_for_patient(user: Any, patient: Patient) -> list[Letter]:
    require(user, "letter.view")
    rows: list[Letter] = _PATIENT_LETTERS.objects(patient=patient.pk)
    audit_reads(user, "Letter", rows)
    return rows


def _sent() -> Exists:
    return Exists(LetterSending.objects.filter(letter=OuterRef("pk")))


def letters_visible_to(user: Any) -> QuerySet[Letter]:
    """Staff with letter.view: every letter; a patient: their own signed letters that were
    sent (their copy); anyone else: none."""
    if user_can(user, "letter.view"):
        return Letter.objects.all()
    if user_can(user, "patient.view_own"):
        return Letter.objects.filter(
            patient__in=patients_visible_to(user), status=LetterStatus.SIGNED
        ).filter(_sent())
    return Letter.objects.none()


def letter_get_for_user(user: Any, letter_id: UUID | str) -> Letter:
    """A letter the user may read; Letter.DoesNotExist (404) otherwise."""
    pk = _uuid(letter_id)
    if pk is None:
        raise Letter.DoesNotExist
    letter = (
        letters_visible_to(user)
        .select_related("patient", "recipient", "drafted_by", "signed_by")
        .get(pk=pk)
    )
    audit_reads(user, "Letter", [letter])
    return letter


def letter_sendings(user: Any, letter: Letter) -> list[LetterSending]:
    require(user, "letter.view")
    rows = list(letter.sendings.select_related("sent_by").order_by("-sent_at"))
    audit_reads(user, "LetterSending", [_with_patient(s, letter) for s in rows])
    return rows


def _with_patient(sending: LetterSending, letter: Letter) -> LetterSending:
    sending.patient_id = letter.patient_id  # type: ignore[attr-defined]  # for the audit row
    return sending


def own_sent_letters(user: Any, patient_id: UUID) -> list[Letter]:
    """The patient's copies: their signed letters that were sent (portal)."""
    rows = list(
        letters_visible_to(user)
        .filter(patient_id=patient_id)
        .select_related("recipient")
        .only("id", "patient_id", "kind", "signed_at", "recipient__name", "recipient__kind")
        .order_by("-signed_at")[:LIST_LIMIT]
    )
    audit_reads(user, "Letter", rows)
    return rows


DISCHARGE_LIMIT = 20


def own_discharged_sessions(user: Any, patient_id: UUID) -> list[Session]:
    """The patient's sessions after which they went home (discharged or signed), newest first:
    each has its discharge instructions (portal). Audited reads."""
    rows = list(
        Session.objects.filter(
            course__patient_id=patient_id,
            course__patient__in=patients_visible_to(user),
            status__in=[SessionStatus.DISCHARGED, SessionStatus.SIGNED],
        )
        .select_related("course__protocol")
        .order_by("-start")[:DISCHARGE_LIMIT]
    )
    audit_record_many(
        actor=user,
        action=Action.READ,
        targets=[AuditTarget("Session", str(s.pk), patient_id) for s in rows],
    )
    return rows


def own_discharged_session(user: Any, patient_id: UUID, session_id: UUID) -> Session:
    """One of them; Session.DoesNotExist for any other id (another patient's included)."""
    session = (
        Session.objects.filter(
            course__patient_id=patient_id,
            course__patient__in=patients_visible_to(user),
            status__in=[SessionStatus.DISCHARGED, SessionStatus.SIGNED],
        )
        .select_related("course__protocol", "course__patient")
        .get(pk=session_id)
    )
    audit_record_many(
        actor=user,
        action=Action.READ,
        targets=[AuditTarget("Session", str(session.pk), patient_id)],
    )
    return session
