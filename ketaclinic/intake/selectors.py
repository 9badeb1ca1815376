"""Reads of inquiries: role checked, and every inquiry shown is an audited read."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.intake.models import Inquiry

LIST_LIMIT = 100


def inquiry_list_for_user(user: Any, *, limit: int = LIST_LIMIT) -> list[Inquiry]:
    """The newest inquiries (spam left out), newest first; PermissionDenied for other roles."""
    require(user, "inquiry.view")
    inquiries = list(Inquiry.objects.filter(is_spam=False).order_by("-created_at", "-id")[:limit])
    if inquiries:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Inquiry", str(i.pk), None) for i in inquiries],
            )
    return inquiries
