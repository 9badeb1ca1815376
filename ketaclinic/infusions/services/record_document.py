"""The signed record's PDF, stored (``RecordDocument``): version 1 at signing, one more at
each addendum, each in the transaction of the write that made it.

The PDF is drawn by ``ketaclinic/infusions/pdf`` (a layer above services: it reads the
services' snapshot and verification). So that signing can store it in its own transaction
without services importing the pages' layer, the app's ``ready()`` hands the renderer in
(``record_renderer_set``); without one (never in the running app) nothing is stored and the
staff download stores it on first need (``record_document_latest_or_store``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.infusions.models import Addendum, RecordDocument, Session, SessionStatus
from ketaclinic.infusions.services.common import _audit

logger = logging.getLogger(__name__)
Renderer = Callable[..., bytes]  # (session, *, at: datetime) -> the PDF's bytes
_renderers: list[Renderer] = []


def record_renderer_set(render: Renderer) -> None:
    _renderers[:] = [render]


def _render(session: Session, at: datetime) -> bytes:
    if not _renderers:
        raise RuntimeError("no record renderer: InfusionsConfig.ready() sets it")
    return _renderers[0](session, at=at)


def record_document_store(
    *, acting_user: Any, session: Session, addendum: Addendum | None = None
) -> RecordDocument | None:
    """Render the signed record as it stands and store it as its next version (inside the
    caller's transaction; audited). None when no renderer is set (see the module's note)."""
    if not _renderers or session.status != SessionStatus.SIGNED:
        return None
    at = timezone.now()
    pdf = _render(session, at)
    latest = RecordDocument.objects.filter(session=session).aggregate(v=Max("version"))["v"]
    document = RecordDocument.objects.create(
        session=session,
        version=(latest or 0) + 1,
        pdf=pdf,
        size=len(pdf),
        sha1=hashlib.sha1(pdf, usedforsecurity=False).hexdigest(),
        addendum=addendum,
        created_at=at,
    )
    _audit(acting_user, Action.CREATE, "RecordDocument", document.pk, session)
    return document


def record_document_store_or_defer(
    *, acting_user: Any, session: Session, addendum: Addendum | None = None
) -> RecordDocument | None:
    """As ``record_document_store``, for signing and addenda: a PDF that cannot be drawn never
    stops a signature or an addendum (the record itself is the snapshot and its SHA-256). Its
    savepoint is rolled back, the failure logged (where and its class only: no patient data),
    and the staff download stores the PDF on first need."""
    try:
        with transaction.atomic():
            return record_document_store(
                acting_user=acting_user, session=session, addendum=addendum
            )
    except Exception as exc:
        logger.error("record PDF of session %s not stored (%s)", session.pk, type(exc).__name__)
        return None


def record_document_latest_or_store(*, acting_user: Any, session: Session) -> RecordDocument:
    """The latest stored PDF of a signed session; a session signed before PDFs were stored
    gets its PDF rendered and stored now, once (its version 1: the record with the addenda
    it has by then)."""
    found = RecordDocument.objects.filter(session=session).order_by("-version").first()
    if found is not None:
        return found
    with transaction.atomic():
        Session.objects.select_for_update().filter(pk=session.pk).first()
        found = RecordDocument.objects.filter(session=session).order_by("-version").first()
        stored = found or record_document_store(acting_user=acting_user, session=session)
    if stored is None:
        raise RuntimeError("the session is not signed, or no record renderer is set")
    return stored
