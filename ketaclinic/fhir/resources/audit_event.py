"""The audit trail (``ketaclinic.audit``) as R4 AuditEvents, for the administrator only.

Each row of the hash chain is one AuditEvent (id ``audit-<seq>``): the action is already a
FHIR AuditEvent.action code (C, R, U, D, E); the type is DICOM's "Patient Record" (110110,
http://dicom.nema.org/resources/ontology/DCM, the code R4's examples use for access to a
patient's record, https://hl7.org/fhir/R4/valueset-audit-event-type.html); the agent is the
user who acted (Practitioner/staff-<n>, the Patient for a patient's own account, or the
system), with the address it came from; the entities are the record touched and its patient
(object-role 1 Patient, 4 Domain Resource: https://hl7.org/fhir/R4/codesystem-object-role.html).
The chain's hash is kept as an identifier so a reader can check the event against the chain.
Records that are FHIR resources here are referenced by their FHIR type; the rest by an
identifier in our ``sid/audit-object/<type>`` system."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.selectors import events_naming
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import int_id, uuid_or_none, validated
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.resources.practitioner import practitioner_id, practitioner_pk
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.fhir.search.params import reference, token

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ACTION_SYSTEM = "http://hl7.org/fhir/audit-event-action"

# Our audit object types that are served as FHIR resources with the same id.
FHIR_TYPES = {
    "Patient": "Patient",
    "Observation": "Observation",
    "QuestionnaireResponse": "QuestionnaireResponse",
    "SafetyFlag": "Flag",
    "Session": "Encounter",
    "ConsentSignature": "Consent",
    "Encounter": "Encounter",
    "MedicationAdministration": "MedicationAdministration",
    "DocumentReference": "DocumentReference",
    "Binary": "Binary",
    "Provenance": "Provenance",
    "AuditEvent": "AuditEvent",
}

audit_seq = int_id("audit-")


def audit_event_id(seq: int) -> str:
    return f"audit-{seq}"


def _agent(event: AuditEvent) -> dict[str, Any]:
    agent: dict[str, Any] = {"requestor": True}
    actor = event.actor
    if actor is None:
        agent["who"] = {"display": "KetaClinic (system)"}
    elif actor.role == Role.PATIENT and actor.patient_id is not None:
        agent["who"] = {"reference": f"Patient/{actor.patient_id}"}
    else:
        agent["who"] = {"reference": f"Practitioner/{practitioner_id(actor.pk)}"}
    if event.actor_role:
        agent["role"] = [{"text": event.actor_role}]
    if event.client_address:
        agent["network"] = {"address": event.client_address, "type": "2"}  # 2: IP address
    return agent


def _what(event: AuditEvent, object_id: str) -> dict[str, Any]:
    fhir_type = FHIR_TYPES.get(event.object_type)
    if fhir_type is not None:
        return {"reference": f"{fhir_type}/{object_id}", "display": event.object_type}
    return {
        "identifier": {
            "system": f"{canonical_base()}/sid/audit-object/{event.object_type}",
            "value": object_id,
        },
        "display": event.object_type,
    }


def audit_event_json(event: AuditEvent) -> dict[str, Any]:
    # One entity per record named: a page of reads (a search page) names each record shown.
    entities: list[dict[str, Any]] = [
        {
            "what": _what(event, object_id),
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
        }
        for object_id in event.object_id_list
    ]
    if event.patient_id is not None and event.object_type != "Patient":
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    return {
        "resourceType": "AuditEvent",
        "id": audit_event_id(event.seq),
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
        "action": event.action,
        "recorded": event.at.isoformat(),
        "outcome": "0",
        "agent": [_agent(event)],
        "source": {
            "site": "KetaClinic",
            "observer": {"reference": f"Organization/{CLINIC_ID}"},
        },
        "entity": entities,
        "extension": [
            {
                "url": f"{canonical_base()}/StructureDefinition/audit-chain-hash",
                "valueString": event.hash,
            }
        ],
    }


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            audit_event_id(e.seq),
            validated(FhirAuditEvent, audit_event_json(e)),
            e.patient_id,
            getattr(e, LAST_UPDATED),
        )
        for e in rows
    ]


def _rows(user: Any) -> QuerySet[Any]:
    """The whole trail, for whoever may read it (the administrator); 403 for anyone else."""
    if not user_can(user, "audit.view"):
        raise FhirProblem(403, [Issue("forbidden", "only an administrator reads the audit trail")])
    return AuditEvent.objects.all()


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    return rows.filter(seq__in=[k for k in map(audit_seq, raw.split(",")) if k is not None])


def _lookup(raw: str) -> Q | None:
    seq = audit_seq(raw)
    return None if seq is None else Q(seq=seq)


def _patient(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    keys = [uuid_or_none(reference(part, "Patient")) for part in raw.split(",")]
    return rows.filter(patient_id__in=[k for k in keys if k is not None])


def _agent_filter(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    """``agent=Practitioner/staff-<n>`` or ``agent=Patient/<id>`` (a patient's own account)."""
    condition = Q(pk__in=[])
    for part in raw.split(","):
        if part.startswith("Patient/") or "/Patient/" in part:
            patient = uuid_or_none(reference(part, "Patient"))
            if patient is not None:
                condition |= Q(actor__patient_id=patient)
            continue
        staff = practitioner_pk(reference(part, "Practitioner"))
        if staff is not None:
            condition |= Q(actor_id=staff)
    return rows.filter(condition)


def _entity(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    """``entity=<Type>/<id>``: events about that record (a Patient: about anything of theirs)."""
    condition = Q(pk__in=[])
    for part in raw.split(","):
        fhir_type, _, object_id = part.rstrip("/").rpartition("/")
        fhir_type = fhir_type.rsplit("/", 1)[-1]
        if not fhir_type or not object_id:
            raise ValueError(f"entity is a reference (Type/id), got {part!r}")
        if fhir_type == "Patient":
            patient = uuid_or_none(object_id)
            if patient is not None:
                condition |= Q(patient_id=patient)
            continue
        ours = [o for o, f in FHIR_TYPES.items() if f == fhir_type] or [fhir_type]
        condition |= events_naming(ours, object_id)
    return rows.filter(condition)


def _action(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    codes = {token(part).code for part in raw.split(",")}
    wrong = codes - set(Action.values)
    if wrong:
        raise ValueError(f"action is one of C, R, U, D, E (got {', '.join(sorted(wrong))})")
    return rows.filter(action__in=codes)


AUDIT_EVENT_SOURCE = Source(
    rows=_rows,
    inserted="at",
    last_updated=F("at"),  # append-only: an event never changes
    dates=F("at"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "date": date_filter("at"),
        "patient": _patient,
        "entity": _entity,
        "agent": _agent_filter,
        "action": _action,
    },
    build=_build,
    lookup=_lookup,
    prefetch=("actor",),
)
