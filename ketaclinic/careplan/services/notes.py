"""Integration notes: the assigned therapist writes a draft, signs it (frozen, SHA-256 kept),
and adds addenda afterwards. A positive risk check opens a safety flag for the prescriber."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.careplan.models import (
    CarePlan,
    IntegrationAddendum,
    IntegrationNote,
    NoteStatus,
)
from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.scales.services import clinicians_notify

RISK_FLAG_CODE = "integration-risk"
RISK_FLAG_TITLE = "Integration therapist's risk check was positive"


class NoteLocked(Exception):
    """A signed integration note never changes: add an addendum."""


def _require_assigned(acting_user: Any, plan: CarePlan) -> None:
    require(acting_user, "integration.write")
    if not plan.therapists.filter(pk=acting_user.pk).exists():
        raise PermissionDenied("integration.write")


def _fields(
    note: IntegrationNote,
    *,
    session_on: date,
    themes: str,
    intentions: str,
    goal_progress: list[dict[str, str]],
    risk_positive: bool,
    risk_note: str,
) -> None:
    note.session_on = session_on
    note.themes = themes.strip()
    note.intentions = intentions.strip()
    note.goal_progress = goal_progress
    note.risk_positive = risk_positive
    note.risk_note = risk_note.strip()


@transaction.atomic
def integration_note_save(
    *,
    acting_user: Any,
    plan: CarePlan,
    note: IntegrationNote | None = None,
    session_on: date,
    themes: str,
    intentions: str,
    goal_progress: list[dict[str, str]],
    risk_positive: bool,
    risk_note: str,
) -> IntegrationNote:
    """Create the therapist's draft note, or save changes to it (never a signed one)."""
    _require_assigned(acting_user, plan)
    if note is None:
        note = IntegrationNote(plan=plan, patient_id=plan.patient_id, therapist=acting_user)
        action = Action.CREATE
    else:
        note = IntegrationNote.objects.select_for_update().get(pk=note.pk)
        if note.therapist_id != acting_user.pk or note.plan_id != plan.pk:
            raise PermissionDenied("integration.write")
        if note.status != NoteStatus.DRAFT:
            raise NoteLocked("a signed note never changes; add an addendum")
        action = Action.UPDATE
    _fields(
        note,
        session_on=session_on,
        themes=themes,
        intentions=intentions,
        goal_progress=goal_progress,
        risk_positive=risk_positive,
        risk_note=risk_note,
    )
    note.full_clean()
    note.save()
    audit_record(
        actor=acting_user,
        action=action,
        object_type="IntegrationNote",
        object_id=note.pk,
        patient_id=note.patient_id,
    )
    return note


def _canonical(note: IntegrationNote) -> str:
    assert note.signed_at is not None
    return json.dumps(
        {
            "note": note.pk,
            "patient": str(note.patient_id),
            "therapist": note.therapist_id,
            "session_on": note.session_on.isoformat(),
            "themes": note.themes,
            "intentions": note.intentions,
            "goal_progress": note.goal_progress,
            "risk_positive": note.risk_positive,
            "risk_note": note.risk_note,
            "signed_at": note.signed_at.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


@transaction.atomic
def integration_note_sign(*, acting_user: Any, note: IntegrationNote) -> IntegrationNote:
    """Sign the draft: locked from now on. A positive risk check opens the patient's
    integration-risk safety flag (unless one is active) and tells the clinicians."""
    locked = IntegrationNote.objects.select_for_update().select_related("plan").get(pk=note.pk)
    _require_assigned(acting_user, locked.plan)
    if locked.therapist_id != acting_user.pk:
        raise PermissionDenied("integration.write")
    if locked.status != NoteStatus.DRAFT:
        raise NoteLocked("the note is signed already")
    locked.status = NoteStatus.SIGNED
    locked.signed_at = timezone.now()
    locked.digest = hashlib.sha256(_canonical(locked).encode()).hexdigest()
    if locked.risk_positive:
        locked.flag = _risk_flag_open(acting_user, locked)
    locked.full_clean()
    locked.save()
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="IntegrationNote",
        object_id=locked.pk,
        patient_id=locked.patient_id,
    )
    return locked


def _risk_flag_open(acting_user: Any, note: IntegrationNote) -> SafetyFlag:
    active = SafetyFlag.objects.filter(
        patient_id=note.patient_id, code=RISK_FLAG_CODE, status=FlagStatus.ACTIVE
    ).first()
    if active is not None:
        return active
    flag = SafetyFlag(
        patient_id=note.patient_id,
        code=RISK_FLAG_CODE,
        title=RISK_FLAG_TITLE,
        severity="high",
        status=FlagStatus.ACTIVE,
        source_object_type="IntegrationNote",
        source_object_id=str(note.pk),
    )
    flag.full_clean()
    flag.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="SafetyFlag",
        object_id=flag.pk,
        patient_id=note.patient_id,
    )
    flag_ids = [flag.pk]
    transaction.on_commit(lambda: clinicians_notify(flag_ids=flag_ids))
    return flag


@transaction.atomic
def integration_addendum_add(
    *, acting_user: Any, note: IntegrationNote, text: str
) -> IntegrationAddendum:
    """A later word on a signed note, by the therapist who wrote it."""
    locked = IntegrationNote.objects.select_for_update().select_related("plan").get(pk=note.pk)
    _require_assigned(acting_user, locked.plan)
    if locked.therapist_id != acting_user.pk or locked.status != NoteStatus.SIGNED:
        raise PermissionDenied("integration.write")
    addendum = IntegrationAddendum(note=locked, text=text.strip(), author=acting_user)
    addendum.full_clean()
    addendum.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="IntegrationAddendum",
        object_id=addendum.pk,
        patient_id=locked.patient_id,
    )
    return addendum
