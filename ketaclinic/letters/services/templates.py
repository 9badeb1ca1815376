"""The letter templates: published defaults, replaced per kind by the administrator's versions
(the way the eligibility rules are: a change is a new version; the old ones are kept)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.letters.models import LetterKind, LetterTemplate
from ketaclinic.letters.rules.content import TemplateText, default_templates, template_problems


@dataclass(frozen=True)
class ActiveTemplate:
    kind: str
    version: int  # 0: the published default
    text: TemplateText


def template_active(kind: str) -> ActiveTemplate:
    row = LetterTemplate.objects.filter(kind=kind, active=True).first()
    if row is None:
        return ActiveTemplate(kind, 0, default_templates()[kind])
    return ActiveTemplate(kind, row.version, TemplateText(row.subject, row.body))


@transaction.atomic
def template_version_add(
    *, acting_user: Any, kind: str, subject: str, body: str, note: str = ""
) -> LetterTemplate:
    """A new version of ``kind``'s template, active from now on (no patient data: the audit
    row names none)."""
    require(acting_user, "letter.templates")
    if kind not in LetterKind.values:
        raise ValidationError({"kind": ["Unknown kind of letter."]})
    problems = template_problems(kind, subject) + template_problems(kind, body)
    if problems:
        raise ValidationError({"body": problems})
    latest = LetterTemplate.objects.select_for_update().filter(kind=kind)
    version = (latest.aggregate(top=Max("version"))["top"] or 0) + 1
    latest.filter(active=True).update(active=False)
    row = LetterTemplate(
        kind=kind,
        version=version,
        subject=subject.strip(),
        body=body.strip(),
        note=note.strip(),
        created_by=acting_user,
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="LetterTemplate",
        object_id=row.pk,
        patient_id=None,
    )
    return row


@transaction.atomic
def template_default_restore(*, acting_user: Any, kind: str) -> None:
    """Back to the published default: no version of ``kind`` is active (all are kept)."""
    require(acting_user, "letter.templates")
    changed = LetterTemplate.objects.filter(kind=kind, active=True).update(active=False)
    if changed:
        audit_record(
            actor=acting_user,
            action=Action.UPDATE,
            object_type="LetterTemplate",
            object_id=kind,
            patient_id=None,
        )
