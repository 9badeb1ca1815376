"""The urgent-word list in use: the administrator's newest published version, else the
shipped defaults. Publishing a version is audited; versions are never changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from ketaclinic.accounts.access import user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.messaging.models import UrgentWordList
from ketaclinic.messaging.rules.urgent import UrgentWords, phrases_clean, published_defaults


def urgent_words_current() -> UrgentWords:
    row = UrgentWordList.objects.order_by("-version").first()
    defaults = published_defaults()
    if row is None:
        return defaults
    return UrgentWords(
        version=row.version,
        phrases=tuple(str(p) for p in row.phrases),
        sources=(*defaults.sources, f"Edited by the clinic: {row.reason}"),
        note=defaults.note,
    )


@transaction.atomic
def urgent_words_publish(
    *, acting_user: Any, phrases: Sequence[str], reason: str
) -> UrgentWordList:
    """A new version of the list (administrator only), with the reason for the change."""
    if not user_can(acting_user, "message.words_edit"):
        raise PermissionDenied("message.words_edit")
    try:
        clean = phrases_clean(phrases)
    except ValueError as exc:
        raise ValidationError({"phrases": str(exc)}) from None
    if not reason.strip():
        raise ValidationError({"reason": "Say why the list changes."})
    # The shipped list is version 1 (or whatever it says); an edit is always newer.
    latest = UrgentWordList.objects.select_for_update().aggregate(v=Max("version"))["v"]
    version = max(latest or 0, published_defaults().version) + 1
    row = UrgentWordList(
        version=version, phrases=list(clean), reason=reason.strip(), published_by=acting_user
    )
    row.full_clean()
    row.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="UrgentWordList",
        object_id=row.pk,
        patient_id=None,
    )
    return row
