"""Writes for informed consent: witnessed signatures, tablet signing, single-use links.

A signature always names the document version it signs and keeps that version's digest. A
drawn signature is a PNG data URL from the signing page's canvas, checked and size-limited.
A link's token is shown once to the staff member who makes it; only its SHA-256 is stored,
and the patient signing through it is the link's, whatever is posted.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, UUIDField
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import token_hash
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.consent.models import (
    ConsentDocument,
    ConsentLink,
    ConsentSignature,
    SignatureMethod,
)
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.lib.hashchain import digest, sha256_hex
from ketaclinic.patients.models import Patient

LINK_DEFAULT_HOURS: Final = 72
LINK_MAX_HOURS: Final = 14 * 24
TOKEN_BYTES: Final = 32

PNG_PREFIX: Final = "data:image/png;base64,"
MAX_SIGNATURE_CHARS: Final = 300_000
"""A drawn signature's data URL (about 220 kB of PNG): far more than a canvas signature."""
MAX_SIGNATURE_PIXELS: Final = (2000, 1000)


class LinkGone(Exception):
    """The link was used or has expired: answer 410 Gone, store nothing."""


class LinkUnknown(Exception):
    """No link has this token."""


@dataclass(frozen=True)
class IssuedConsentLink:
    link: ConsentLink
    token: str


def consent_document_digest(
    *, code: str, version: int, title: str, body: str, effective_from: date
) -> str:
    """SHA-256 of a document version's canonical content (what a signature agrees to)."""
    return digest(
        {
            "code": code,
            "version": version,
            "title": title,
            "body": body,
            "effective_from": effective_from.isoformat(),
        }
    )


def consent_document_digest_of(document: ConsentDocument) -> str:
    return consent_document_digest(
        code=document.code,
        version=document.version,
        title=document.title,
        body=document.body,
        effective_from=document.effective_from,
    )


def _missing() -> QuerySet[ConsentDocument]:
    signed = ConsentSignature.objects.filter(patient_id=Slot("patient", UUIDField())).values(
        "document_id"
    )
    return (
        ConsentDocument.objects.filter(active=True, required=True)
        .exclude(pk__in=signed)
        .order_by("code")
    )


_MISSING = CompiledRead(_missing)  # compiled once per process (lib/compiled_read.py)


def consent_missing(patient: Patient) -> list[ConsentDocument]:
    """The active required document versions the patient has not signed (one query)."""
    missing: list[ConsentDocument] = _MISSING.objects(patient=patient.pk)
    return missing


@transaction.atomic
def consent_document_version_add(
    *,
    acting_user: Any,
    code: str,
    title: str,
    body: str,
    required: bool,
    effective_from: date,
) -> ConsentDocument:
    """Add the next version of the document ``code`` and make it the one patients sign.

    Versions already stored are never edited (patients signed them, and a signature keeps the
    version's digest): the previous version only stops being the active one. The text must
    differ from the current version's, else nothing is saved (``ValidationError``)."""
    require(acting_user, "site.edit")
    existing = list(
        ConsentDocument.objects.select_for_update().filter(code=code).order_by("-version")
    )
    if not existing:
        raise ConsentDocument.DoesNotExist(code)
    latest = existing[0]
    title, body = title.strip(), body.strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Give the document a title."]
    if not body:
        errors["body"] = ["The text of the document must not be empty."]
    current = next((doc for doc in existing if doc.active), latest)
    if (
        not errors
        and title == current.title
        and body == current.body
        and required == current.required
        and effective_from == current.effective_from
    ):
        errors["body"] = [f"Nothing was changed from version {current.version}."]
    if errors:
        raise ValidationError(errors)
    version = latest.version + 1
    ConsentDocument.objects.filter(code=code, active=True).update(active=False)
    document = ConsentDocument(
        code=code,
        version=version,
        title=title,
        body=body,
        effective_from=effective_from,
        active=True,
        required=required,
        digest=consent_document_digest(
            code=code, version=version, title=title, body=body, effective_from=effective_from
        ),
    )
    document.full_clean()
    document.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="ConsentDocument",
        object_id=document.pk,
        patient_id=None,
    )
    return document


def signature_image_check(data_url: str) -> str:
    """The data URL of a drawn signature, if it is a PNG, small enough, and not blank."""
    if not isinstance(data_url, str) or not data_url.startswith(PNG_PREFIX):
        raise ValidationError({"signature": ["Draw your signature in the box."]})
    if len(data_url) > MAX_SIGNATURE_CHARS:
        raise ValidationError({"signature": ["The drawn signature is too large."]})
    try:
        raw = base64.b64decode(data_url[len(PNG_PREFIX) :], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValidationError({"signature": ["The signature must be a PNG image."]})
            width, height = image.size
            if width > MAX_SIGNATURE_PIXELS[0] or height > MAX_SIGNATURE_PIXELS[1]:
                raise ValidationError({"signature": ["The signature image is too large."]})
            image.load()
            # Blank: every pixel transparent (a canvas nobody drew on) or one flat colour.
            alpha = image.convert("RGBA").getchannel("A")
            if alpha.getbbox() is None or image.convert("L").getextrema()[0] == 255:
                raise ValidationError({"signature": ["Draw your signature in the box."]})
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError({"signature": ["The signature is not a readable image."]}) from None
    return data_url


def _signed_name(value: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > 200 or "\x00" in name:
        raise ValidationError({"signed_name": ["Type your full name (up to 200 characters)."]})
    return name


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def signature_snapshot(signature: ConsentSignature) -> dict[str, Any]:
    """What a signature's digest covers."""
    document = signature.document
    return {
        "kind": "consent_signature",
        "patient": str(signature.patient_id),
        "document": {
            "id": document.pk,
            "code": document.code,
            "version": document.version,
            "digest": signature.document_digest,
        },
        "signed_name": signature.signed_name,
        "signature_image_sha256": (
            sha256_hex(signature.signature_image) if signature.signature_image else None
        ),
        "method": signature.method,
        "witnessed_by": signature.witnessed_by_id,
        "recorded_by": signature.recorded_by_id,
        "link": signature.link_id,
        "signed_at": _timestamp(signature.signed_at),
    }


def signature_verify(signature: ConsentSignature) -> bool:
    """The signature's digest still matches, and so does its document's text."""
    return (
        digest(signature_snapshot(signature)) == signature.digest
        and consent_document_digest_of(signature.document) == signature.document_digest
    )


def _store_signature(
    *,
    patient: Patient,
    document: ConsentDocument,
    signed_name: str,
    method: SignatureMethod,
    recorded_by: Any,
    signature_image: str = "",
    witnessed_by: Any = None,
    link: ConsentLink | None = None,
    audit_actor: Any,
) -> ConsentSignature:
    if not document.active:
        raise ValidationError({"document": ["This version is no longer in use."]})
    signature = ConsentSignature(
        patient=patient,
        document=document,
        document_digest=document.digest,
        signed_name=signed_name,
        signature_image=signature_image,
        method=method,
        witnessed_by=witnessed_by,
        recorded_by=recorded_by,
        link=link,
        signed_at=timezone.now(),
    )
    signature.digest = digest(signature_snapshot(signature))
    signature.full_clean(exclude=["patient", "document", "recorded_by", "witnessed_by", "link"])
    signature.save(force_insert=True)
    audit_record(
        actor=audit_actor,
        action=Action.CREATE,
        object_type="ConsentSignature",
        object_id=signature.pk,
        patient_id=patient.pk,
    )
    return signature


def _documents(document_ids: Sequence[int] | None) -> list[ConsentDocument]:
    """The given active versions, or every active required one when none are given."""
    active = ConsentDocument.objects.filter(active=True).order_by("code")
    if document_ids is None:
        return list(active.filter(required=True))
    ids = list(dict.fromkeys(document_ids))
    found = list(active.filter(pk__in=ids))
    if len(found) != len(ids) or not ids:
        raise ValidationError(
            {"documents": ["Choose current consent documents (GET /api/v1/consent-documents)."]}
        )
    return found


@transaction.atomic
def consent_record_witnessed(
    *, acting_user: Any, patient: Patient, document_id: int, signed_name: str
) -> ConsentSignature:
    """Staff record a signature they witnessed in person (on paper, or read aloud)."""
    require(acting_user, "consent.record")
    document = ConsentDocument.objects.filter(pk=document_id, active=True).first()
    if document is None:
        raise ValidationError(
            {"document": ["Not a current consent document (GET /api/v1/consent-documents)."]}
        )
    return _store_signature(
        patient=patient,
        document=document,
        signed_name=_signed_name(signed_name),
        method=SignatureMethod.WITNESSED,
        recorded_by=acting_user,
        witnessed_by=acting_user,
        audit_actor=acting_user,
    )


@transaction.atomic
def consent_sign_tablet(
    *,
    acting_user: Any,
    patient: Patient,
    signed_name: str,
    signature_image: str,
    document_ids: Sequence[int] | None = None,
) -> list[ConsentSignature]:
    """The patient signs on the clinic's tablet, opened by a staff member."""
    require(acting_user, "consent.record")
    name = _signed_name(signed_name)
    image = signature_image_check(signature_image)
    return [
        _store_signature(
            patient=patient,
            document=document,
            signed_name=name,
            method=SignatureMethod.TABLET,
            recorded_by=acting_user,
            signature_image=image,
            audit_actor=acting_user,
        )
        for document in _documents(document_ids)
    ]


@transaction.atomic
def consent_link_create(
    *,
    acting_user: Any,
    patient: Patient,
    document_ids: Sequence[int] | None = None,
    hours: int = LINK_DEFAULT_HOURS,
) -> IssuedConsentLink:
    """Make a single-use signing link; the token is returned once and never stored."""
    require(acting_user, "consent.record")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= LINK_MAX_HOURS:
        raise ValidationError({"hours": [f"must be a whole number from 1 to {LINK_MAX_HOURS}"]})
    documents = _documents(document_ids)
    if not documents:
        raise ValidationError({"documents": ["There is no consent document to sign."]})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ConsentLink(
        token_hash=token_hash(token),
        patient=patient,
        expires_at=timezone.now() + timedelta(hours=hours),
        created_by=acting_user,
    )
    link.save(force_insert=True)
    link.documents.set(documents)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="ConsentLink",
        object_id=link.pk,
        patient_id=patient.pk,
    )
    return IssuedConsentLink(link=link, token=token)


def consent_link_find(token: str) -> ConsentLink:
    """The link with this token, used or not; LinkUnknown when there is none."""
    if not token or len(token) > 100:
        raise LinkUnknown
    link = ConsentLink.objects.filter(token_hash=token_hash(token)).first()
    if link is None:
        raise LinkUnknown
    return link


def consent_link_documents(link: ConsentLink) -> list[ConsentDocument]:
    return list(link.documents.order_by("code"))


@transaction.atomic
def consent_link_sign(
    *, token: str, signed_name: str, signature_image: str
) -> list[ConsentSignature]:
    """Sign every document of the link for the link's patient, and use the link up, together.

    LinkGone when the link was used or has expired (nothing is stored).
    """
    found = consent_link_find(token)
    link = (
        ConsentLink.objects.select_for_update()
        .select_related("patient", "created_by")
        .get(pk=found.pk)
    )
    if not link.is_usable():
        raise LinkGone
    name = _signed_name(signed_name)
    image = signature_image_check(signature_image)
    signatures = [
        _store_signature(
            patient=link.patient,
            document=document,
            signed_name=name,
            method=SignatureMethod.LINK,
            recorded_by=link.created_by,
            signature_image=image,
            link=link,
            audit_actor=None,  # the patient, who has no account to act with
        )
        for document in consent_link_documents(link)
    ]
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return signatures
