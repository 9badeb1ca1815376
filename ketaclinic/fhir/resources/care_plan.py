"""Care plans (``careplan`` app) as R4 CarePlans, built from the signed versions only.

One CarePlan per patient (id: the plan's UUID). A read or search gives the last signed version;
``meta.versionId`` is that version's number, ``_history`` lists every signed version (newest
first) and ``_history/<n>`` reads version n as it was signed. Drafts are never served.

Goals: CarePlan.goal must reference Goal resources. We do not serve Goal as a type of its own
(a goal exists only inside a signed version, and changes with it); each goal is a *contained*
Goal (``#g1``, ``#g2``...) referenced from ``CarePlan.goal``, so a client reads the plan and its
goals in one resource, version-consistent. A scale goal's target is the instrument's LOINC
total with a Quantity comparator ("GAD-7 under 10": LOINC 70274-6, value 10, comparator
``<``); a plain target is ``detailString`` with its ``dueDate``.
The interventions are ``activity.detail`` entries (ketamine course, psychotherapy,
integration sessions, medications plan, each lifestyle goal, the safety plan), with the
in-house therapist as performer (Practitioner/staff-<n>)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from fhir.resources.R4B.careplan import CarePlan as FhirCarePlan

from ketaclinic.accounts.access import user_can
from ketaclinic.careplan.models import CarePlanVersion, PlanStatus, VersionStatus
from ketaclinic.careplan.rules.content import LIFESTYLE_AREAS
from ketaclinic.careplan.rules.safety_plan import SECTIONS, professionals_with_crisis_line
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import (
    code_filter,
    reference_filter,
    uuid_or_none,
    validated,
)
from ketaclinic.fhir.resources.form_versions import VersionedBuilt
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.patients.selectors import patients_visible_to
from ketaclinic.scales import instruments

STATUS_SYSTEM = "http://hl7.org/fhir/request-status"
LOINC = "http://loinc.org"
COMPARATORS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
# An activity's status follows the plan's: active -> in-progress, completed, revoked -> stopped.
ACTIVITY_STATUS = {
    PlanStatus.ACTIVE: "in-progress",
    PlanStatus.COMPLETED: "completed",
    PlanStatus.REVOKED: "stopped",
}


def _goal(goal: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    target: dict[str, Any]
    if goal["kind"] == "scale":
        try:
            instrument = instruments.get(goal["instrument"])
            name, loinc = instrument.name, instrument.loinc_total
        except instruments.InstrumentUnknown:
            name, loinc = goal["instrument"].upper(), None
        measure: dict[str, Any] = {"text": f"{name} total score"}
        if loinc:
            measure["coding"] = [{"system": LOINC, "code": loinc}]
        target = {
            "measure": measure,
            "detailQuantity": {
                "value": goal["threshold"],
                "comparator": COMPARATORS[goal["comparator"]],
            },
        }
    else:
        target = {"measure": {"text": "Patient-defined target"}, "detailString": goal["target"]}
        if goal.get("target_date"):
            target["dueDate"] = goal["target_date"]
    return {
        "resourceType": "Goal",
        "id": goal["key"],
        "lifecycleStatus": "active",
        "description": {"text": goal["text"]},
        "subject": {"reference": patient_ref},
        "target": [target],
    }


def _activity(
    title: str, description: str, status: str, performer: int | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": {"text": title}, "status": status}
    if description:
        detail["description"] = description
    if performer:
        detail["performer"] = [{"reference": f"Practitioner/{practitioner_id(performer)}"}]
    return {"detail": detail}


def _activities(version: CarePlanVersion) -> list[dict[str, Any]]:
    content = version.content
    status = ACTIVITY_STATUS[PlanStatus(version.plan_status)]
    rows: list[dict[str, Any]] = []
    if content.get("course_id"):
        rows.append(
            _activity("Ketamine treatment course", f"Course {content['course_id']}", status)
        )
    therapy = content.get("psychotherapy", {})
    if therapy.get("provider") in ("in_house", "external"):
        who = therapy["external_name"] if therapy["provider"] == "external" else "in-house"
        parts = [f"with {who}"]
        if therapy.get("external_contact"):
            parts.append(therapy["external_contact"])
        if therapy.get("modality"):
            parts.append(therapy["modality"].upper())
        if therapy.get("frequency"):
            parts.append(therapy["frequency"])
        rows.append(
            _activity("Psychotherapy", "; ".join(parts), status, therapy.get("therapist_id"))
        )
    integration = content.get("integration", {})
    if integration.get("planned"):
        rows.append(
            _activity(
                "Integration sessions after infusions",
                integration.get("timing", ""),
                status,
                integration.get("therapist_id"),
            )
        )
    if content.get("medications"):
        rows.append(_activity("Medications plan", content["medications"], status))
    for area in LIFESTYLE_AREAS:
        text = content.get("lifestyle", {}).get(area, "")
        if text:
            rows.append(_activity(f"Lifestyle: {area}", text, status))
    safety = content.get("safety_plan", {})
    steps = []
    for section in SECTIONS:
        items = safety.get(section.key, [])
        if section.key == "professionals":
            items = professionals_with_crisis_line(list(items))
        steps.append(f"{section.title}: {'; '.join(items) or '-'}")
    rows.append(
        _activity(
            "Safety plan (Stanley-Brown Safety Planning Intervention)", "\n".join(steps), status
        )
    )
    return rows


def care_plan_json(version: CarePlanVersion) -> dict[str, Any]:
    content = version.content
    patient_ref = f"Patient/{version.plan.patient_id}"
    goals = content.get("goals", [])
    assert version.signed_at is not None and version.signed_by_id is not None
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(version.plan_id),
        "identifier": [
            {"system": f"{canonical_base()}/sid/careplan-digest", "value": version.digest}
        ],
        "status": version.plan_status,
        "intent": "plan",
        "title": "Care plan",
        "subject": {"reference": patient_ref},
        "period": {"start": version.signed_at.isoformat()},
        "created": version.signed_at.isoformat(),
        "author": {"reference": f"Practitioner/{practitioner_id(version.signed_by_id)}"},
        "activity": _activities(version),
    }
    problems = content.get("problems", [])
    if problems:
        resource["description"] = "; ".join(problems)
    if version.review_on:
        resource["note"] = [{"text": f"Review by {version.review_on.isoformat()}"}]
    if goals:
        resource["contained"] = [_goal(goal, patient_ref) for goal in goals]
        resource["goal"] = [{"reference": f"#{goal['key']}"} for goal in goals]
    return resource


def care_plan_built(version: CarePlanVersion) -> VersionedBuilt:
    return VersionedBuilt(
        str(version.plan_id),
        validated(FhirCarePlan, care_plan_json(version)),
        version.plan.patient_id,
        version.signed_at,
        version=str(version.number),
    )


def _build(rows: Sequence[Any]) -> list[Built]:
    return [care_plan_built(row) for row in rows]


def _may_read(user: Any) -> bool:
    """Staff who read care plans, a patient their own (patients_visible_to narrows it), a
    program whatever its token's scopes allow (fhir/smart checks the type); not intake."""
    if getattr(user, "granted_permissions", None) is not None:
        return True
    return user_can(user, "careplan.view") or user_can(user, "careplan.view_own")


def _signed(user: Any) -> QuerySet[Any]:
    if not _may_read(user):
        return CarePlanVersion.objects.none()
    return CarePlanVersion.objects.filter(
        status=VersionStatus.SIGNED, plan__patient__in=patients_visible_to(user)
    ).select_related("plan")


def _rows(user: Any) -> QuerySet[Any]:
    """The last signed version of each plan the user may see."""
    latest = (
        CarePlanVersion.objects.filter(plan=OuterRef("plan"), status=VersionStatus.SIGNED)
        .order_by("-number")
        .values("number")[:1]
    )
    return _signed(user).filter(number=Subquery(latest))


def care_plan_versions(user: Any, resource_id: str) -> list[VersionedBuilt]:
    """Every signed version of the plan, newest first (empty: not a plan's id)."""
    key = uuid_or_none(resource_id)
    if key is None:
        return []
    return [care_plan_built(v) for v in _signed(user).filter(plan_id=key).order_by("-number")]


def _lookup(raw: str) -> Q | None:
    key = uuid_or_none(raw)
    return None if key is None else Q(plan_id=key)


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    keys = [k for k in (uuid_or_none(part) for part in raw.split(",")) if k is not None]
    return rows.filter(plan_id__in=keys)


CARE_PLAN_SOURCE = Source(
    rows=_rows,
    inserted="signed_at",
    last_updated=F("signed_at"),  # a signed version never changes; a change is a new one
    dates=F("signed_at"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": reference_filter("plan__patient_id", "Patient", uuid_or_none),
        "subject": reference_filter("plan__patient_id", "Patient", uuid_or_none),
        "date": date_filter("signed_at"),
        "status": code_filter(
            {(STATUS_SYSTEM, status.value): Q(plan_status=status.value) for status in PlanStatus}
        ),
        "intent": code_filter(
            {("http://hl7.org/fhir/request-intent", "plan"): Q(pk__isnull=False)}
        ),
    },
    build=_build,
    lookup=_lookup,
)
