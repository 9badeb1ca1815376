"""A staff member's role at the clinic as an R4 PractitionerRole (one per staff user, id
``role-<n>`` beside ``Practitioner/staff-<n>``).

The role is coded twice: in FHIR R4's example value set for PractitionerRole.code
(http://hl7.org/fhir/ValueSet/practitioner-role, code system
http://terminology.hl7.org/CodeSystem/practitioner-role: doctor, nurse, pharmacist, researcher,
teacher, ict; https://hl7.org/fhir/R4/codesystem-practitioner-role.html) where it has a code
(the prescriber is ``doctor``, the infusion nurse ``nurse``), and always in our own code system
``<base>/CodeSystem/staff-role`` (admin, clinician, nurse, intake), since that value set has no
code for intake coordinators or administrators. Clinicians and nurses work at the chairs, so
their roles name the chairs as locations; every role is at the clinic (Organization/clinic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole

from ketaclinic.accounts.roles import ROLE_LABELS, Role
from ketaclinic.courses.models import Chair
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import code_filter, id_filter, int_id, pk_lookup, validated
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.resources.practitioner import (
    location_id,
    practitioner_id,
    practitioner_pk,
    staff_visible_to,
)
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.fhir.search.params import reference

HL7_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/practitioner-role"
HL7_ROLE_CODES: dict[Role, tuple[str, str]] = {
    Role.CLINICIAN: ("doctor", "Doctor"),
    Role.NURSE: ("nurse", "Nurse"),
}
CHAIR_ROLES = frozenset({Role.CLINICIAN, Role.NURSE})

role_pk = int_id("role-")


def role_id(user_pk: int) -> str:
    return f"role-{user_pk}"


def staff_role_system() -> str:
    return f"{canonical_base()}/CodeSystem/staff-role"


def practitioner_role_json(user: Any, chairs: Sequence[Chair]) -> dict[str, Any]:
    role = Role(user.role)
    codings = []
    if role in HL7_ROLE_CODES:
        code, display = HL7_ROLE_CODES[role]
        codings.append({"system": HL7_ROLE_SYSTEM, "code": code, "display": display})
    codings.append({"system": staff_role_system(), "code": role.value, "display": role.label})
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": role_id(user.pk),
        "active": bool(user.is_active),
        "practitioner": {"reference": f"Practitioner/{practitioner_id(user.pk)}"},
        "organization": {"reference": f"Organization/{CLINIC_ID}"},
        "code": [{"coding": codings, "text": role.label}],
    }
    if role in CHAIR_ROLES and chairs:
        resource["location"] = [
            {"reference": f"Location/{location_id(c.pk)}", "display": c.name} for c in chairs
        ]
    return resource


def _build(rows: Sequence[Any]) -> list[Built]:
    chairs = list(Chair.objects.order_by("pk")) if rows else []
    return [
        Built(
            role_id(u.pk),
            validated(FhirPractitionerRole, practitioner_role_json(u, chairs)),
            None,
            getattr(u, LAST_UPDATED),
        )
        for u in rows
    ]


def _active(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    if raw not in ("true", "false"):
        raise ValueError("active is true or false")
    return rows.filter(is_active=raw == "true")


def _practitioner(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    keys = [practitioner_pk(reference(part, "Practitioner")) for part in raw.split(",")]
    return rows.filter(pk__in=[k for k in keys if k is not None])


_ROLE_CODES: dict[tuple[str, str], Q] = {
    (HL7_ROLE_SYSTEM, code): Q(role=role.value) for role, (code, _) in HL7_ROLE_CODES.items()
}
_ROLE_CODES.update(
    {("", role.value): Q(role=role.value) for role in ROLE_LABELS if role != "patient"}
)


def _role(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    """``role=doctor``, ``role=<hl7 system>|nurse`` or ``role=<our system>|intake``."""
    ours = staff_role_system()
    mapping = {
        (ours if system == "" else system, code): condition
        for (system, code), condition in _ROLE_CODES.items()
    }
    return code_filter(mapping)(rows, raw)


PRACTITIONER_ROLE_SOURCE = Source(
    rows=staff_visible_to,
    inserted="date_joined",
    last_updated=F("date_joined"),
    dates=None,
    filters={
        "_id": id_filter(role_pk),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "active": _active,
        "practitioner": _practitioner,
        "role": _role,
    },
    build=_build,
    lookup=pk_lookup(role_pk),
)
