"""Care plan versions: start a draft, save it, sign it; lifestyle check-ins."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.careplan.models import (
    CarePlan,
    CarePlanVersion,
    LifestyleArea,
    LifestyleCheckIn,
    PlanStatus,
    VersionStatus,
)
from ketaclinic.careplan.rules import content as plan_content
from ketaclinic.careplan.rules.safety_plan import professionals_with_crisis_line
from ketaclinic.careplan.rules.versions import (
    VersionLocked,
    next_number,
    require_editable,
    sign_refusals,
)
from ketaclinic.careplan.rules.versions import VersionStatus as RuleStatus
from ketaclinic.patients.models import Patient


class SignRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _locked(version: CarePlanVersion) -> CarePlanVersion:
    return CarePlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)


@transaction.atomic
def careplan_draft_start(*, acting_user: Any, patient: Patient) -> CarePlanVersion:
    """The plan's open draft, or a new one copied from the last signed version (the first
    version starts empty)."""
    require(acting_user, "careplan.edit")
    plan, created = CarePlan.objects.get_or_create(patient=patient)
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if created:
        audit_record(
            actor=acting_user,
            action=Action.CREATE,
            object_type="CarePlan",
            object_id=plan.pk,
            patient_id=patient.pk,
        )
    draft = plan.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    last = plan.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()
    version = CarePlanVersion(
        plan=plan,
        number=next_number(list(plan.versions.values_list("number", flat=True))),
        status=VersionStatus.DRAFT,
        plan_status=last.plan_status if last else PlanStatus.ACTIVE,
        content=last.content if last else plan_content.empty(),
        review_on=last.review_on if last else None,
        created_by=acting_user,
    )
    version.full_clean()
    version.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="CarePlanVersion",
        object_id=version.pk,
        patient_id=patient.pk,
    )
    return version


@transaction.atomic
def careplan_draft_save(
    *,
    acting_user: Any,
    version: CarePlanVersion,
    content: dict[str, Any],
    review_on: date | None,
    plan_status: str,
) -> CarePlanVersion:
    """Save the editor's forms into the draft. A signed version raises VersionLocked."""
    require(acting_user, "careplan.edit")
    locked = _locked(version)
    require_editable(RuleStatus(locked.status))
    _check_therapists(content)
    locked.content = content
    locked.review_on = review_on
    locked.plan_status = PlanStatus(plan_status)
    locked.updated_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=["content", "review_on", "plan_status", "updated_at"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="CarePlanVersion",
        object_id=locked.pk,
        patient_id=locked.plan.patient_id,
    )
    return locked


def _check_therapists(content: dict[str, Any]) -> None:
    """A plan names as in-house therapist only an active user in the therapist role."""
    ids = plan_content.therapist_ids(content)
    known = set(
        User.objects.filter(pk__in=ids, role=Role.THERAPIST.value, is_active=True).values_list(
            "pk", flat=True
        )
    )
    if ids - known:
        raise ValidationError({"therapist": ["Choose an active integration therapist."]})


def canonical(version: CarePlanVersion) -> str:
    """The signed text: what the digest covers."""
    assert version.signed_at is not None and version.signed_by_id is not None
    body = {
        "plan": str(version.plan_id),
        "patient": str(version.plan.patient_id),
        "number": version.number,
        "plan_status": version.plan_status,
        "review_on": version.review_on.isoformat() if version.review_on else None,
        "content": version.content,
        "signed_by": version.signed_by_id,
        "signed_at": version.signed_at.isoformat(),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@transaction.atomic
def careplan_sign(*, acting_user: Any, version: CarePlanVersion) -> CarePlanVersion:
    """Sign the draft: frozen from now on (its SHA-256 kept); the therapists it names are
    the plan's assigned therapists. SignRefused lists what is missing."""
    require(acting_user, "careplan.sign")
    locked = _locked(version)
    require_editable(RuleStatus(locked.status))
    reasons = sign_refusals(
        plan_content.sign_check(locked.content, locked.review_on), timezone.localdate()
    )
    if reasons:
        raise SignRefused(reasons)
    _check_therapists(locked.content)
    safety = dict(locked.content["safety_plan"])
    safety["professionals"] = professionals_with_crisis_line(list(safety["professionals"]))
    locked.content = {**locked.content, "safety_plan": safety}
    locked.status = VersionStatus.SIGNED
    locked.signed_by = acting_user
    locked.signed_at = timezone.now()
    locked.updated_at = locked.signed_at
    locked.digest = hashlib.sha256(canonical(locked).encode()).hexdigest()
    locked.full_clean()
    locked.save()
    locked.plan.therapists.set(plan_content.therapist_ids(locked.content))
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="CarePlanVersion",
        object_id=locked.pk,
        patient_id=locked.plan.patient_id,
    )
    return locked


@transaction.atomic
def lifestyle_checkin_record(
    *, acting_user: Any, plan: CarePlan, area: str, note: str
) -> LifestyleCheckIn:
    """How a lifestyle goal is going (sleep, exercise, alcohol, substances), dated."""
    require(acting_user, "careplan.checkin")
    if (
        acting_user.role == Role.THERAPIST
        and not plan.therapists.filter(pk=acting_user.pk).exists()
    ):
        raise PermissionDenied("careplan.checkin")
    checkin = LifestyleCheckIn(
        plan=plan,
        patient_id=plan.patient_id,
        area=LifestyleArea(area),
        note=note.strip(),
        recorded_by=acting_user,
    )
    checkin.full_clean()
    checkin.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="LifestyleCheckIn",
        object_id=checkin.pk,
        patient_id=plan.patient_id,
    )
    return checkin


__all__ = [
    "SignRefused",
    "VersionLocked",
    "canonical",
    "careplan_draft_save",
    "careplan_draft_start",
    "careplan_sign",
    "lifestyle_checkin_record",
]
