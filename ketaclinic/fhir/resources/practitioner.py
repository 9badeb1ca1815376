"""Clinic staff as R4 Practitioners and chairs as R4 Locations (not patient data).

A Practitioner is a staff user (prescriber, nurse, intake, administrator); the role is a
PractitionerRole concern left for later, so only the name and the active flag are served."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet
from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.roles import Role
from ketaclinic.courses.models import Chair
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import id_filter, int_id, pk_lookup, validated
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter

practitioner_pk = int_id("staff-")
location_pk = int_id("chair-")


def practitioner_id(pk: int) -> str:
    return f"staff-{pk}"


def location_id(pk: int) -> str:
    return f"chair-{pk}"


def _staff_visible_to(user: Any) -> QuerySet[Any]:
    """Staff see the clinic's staff; patients see the staff (names of who treats them)."""
    users = get_user_model().objects.exclude(role=Role.PATIENT).exclude(role="")
    if user_can(user, "patient.view_any") or user_can(user, "patient.view_own"):
        return users
    return users.none()


staff_visible_to = _staff_visible_to  # PractitionerRole shares it (resources/staff_role.py)


def practitioner_json(user: Any) -> dict[str, Any]:
    name: dict[str, Any] = {"text": user.get_full_name() or user.get_username()}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id(user.pk),
        "identifier": [{"system": f"{canonical_base()}/sid/staff", "value": str(user.pk)}],
        "active": bool(user.is_active),
        "name": [name],
    }


def _build_practitioners(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            practitioner_id(u.pk),
            validated(FhirPractitioner, practitioner_json(u)),
            None,
            getattr(u, LAST_UPDATED),
        )
        for u in rows
    ]


def _active_filter(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    if raw not in ("true", "false"):
        raise ValueError("active is true or false")
    return rows.filter(is_active=raw == "true")


PRACTITIONER_SOURCE = Source(
    rows=_staff_visible_to,
    inserted="date_joined",
    last_updated=F("date_joined"),
    dates=None,
    filters={
        "_id": id_filter(practitioner_pk),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "active": _active_filter,
    },
    build=_build_practitioners,
    lookup=pk_lookup(practitioner_pk),
)


def location_json(chair: Chair) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": location_id(chair.pk),
        "status": "active",
        "name": chair.name,
        "mode": "instance",
        "managingOrganization": {"reference": f"Organization/{CLINIC_ID}"},
        "type": [{"text": "Infusion chair"}],
        "physicalType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                    "code": "bd",
                    "display": "Bed",
                }
            ],
            "text": "Chair",
        },
    }
    if chair.room:
        resource["description"] = f"in {chair.room}"
    return resource


def _build_locations(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            location_id(c.pk),
            validated(FhirLocation, location_json(c)),
            None,
            getattr(c, LAST_UPDATED),
        )
        for c in rows
    ]


def _chairs_visible_to(user: Any) -> QuerySet[Any]:
    if user_can(user, "patient.view_any") or user_can(user, "patient.view_own"):
        return Chair.objects.all()
    return Chair.objects.none()


LOCATION_SOURCE = Source(
    rows=_chairs_visible_to,
    inserted="created_at",
    last_updated=F("created_at"),
    dates=None,
    filters={"_id": id_filter(location_pk), "_lastUpdated": date_filter(LAST_UPDATED)},
    build=_build_locations,
    lookup=pk_lookup(location_pk),
)
