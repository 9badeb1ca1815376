"""Writes to the public site's pages: administrators only, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.site.models import Page


@transaction.atomic
def page_update(*, acting_user: Any, page: Page, title: str, summary: str, body: str) -> Page:
    """Change a page's text. Raises PermissionDenied for anyone but an administrator."""
    require(acting_user, "site.edit")
    locked = Page.objects.select_for_update().get(pk=page.pk)
    locked.title = title
    locked.summary = summary
    locked.body = body
    locked.updated_at = timezone.now()
    locked.updated_by = acting_user
    locked.full_clean()
    locked.save(update_fields=["title", "summary", "body", "updated_at", "updated_by"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="Page",
        object_id=locked.slug,
        patient_id=None,
    )
    return locked
