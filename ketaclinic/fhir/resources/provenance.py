"""Who signed what, and when, as R4 Provenance: one per signed record.

- a signed infusion session (``infusions.SignedRecord``, id ``session-<uuid>``): targets the
  Encounter and the MedicationAdministration; the nurse and the clinician who signed;
- a signed eligibility decision (``eligibility.EligibilityDecision``, id ``decision-<n>``):
  the decision is not a FHIR resource here, so its target is a logical reference (identifier
  in our ``sid/eligibility-decision`` system); the clinician who decided;
- a signed consent (``consent.ConsentSignature``, id ``consent-<n>``): targets the Consent
  and its DocumentReference (the PDF); the patient who signed, the staff member who recorded
  it and the witness, when there was one.

Each signer has a ``signature``: its type from ASTM E1762-95 (the R4 signature-type value
set, https://hl7.org/fhir/R4/valueset-signature-type.html: 1.2.840.10065.1.12.1.1 Author's,
.5 Verification, .7 Consent, .8 Signature Witness) and, as ``data``, the SHA-256 digest the
record stores of the canonical JSON that was frozen (``targetFormat`` application/json). It is
a digest to check the record against, not a cryptographic signature: the models keep no keys.
Agent types are from https://hl7.org/fhir/R4/codesystem-provenance-participant-type.html."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.provenance import Provenance as FhirProvenance

from ketaclinic.accounts.roles import Role
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.eligibility.models import EligibilityDecision
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import (
    int_id,
    reference_filter,
    rows_built,
    uuid_or_none,
    validated,
)
from ketaclinic.fhir.resources.practitioner import practitioner_id, practitioner_pk
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.fhir.search.params import reference
from ketaclinic.infusions.models import SessionSignature, SignedRecord
from ketaclinic.patients.selectors import patients_visible_to

SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR = ("1.2.840.10065.1.12.1.1", "Author's Signature")
VERIFICATION = ("1.2.840.10065.1.12.1.5", "Verification Signature")
CONSENT = ("1.2.840.10065.1.12.1.7", "Consent Signature")
WITNESS = ("1.2.840.10065.1.12.1.8", "Signature Witness Signature")
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def _staff(pk: int) -> dict[str, str]:
    return {"reference": f"Practitioner/{practitioner_id(pk)}"}


def _agent(who: dict[str, str], kind: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": PARTICIPANT, "code": kind, "display": kind.title()}]},
        "who": who,
    }


def _signature(kind: tuple[str, str], when: datetime, who: dict[str, str], sha: str) -> Any:
    return {
        "type": [{"system": SIGNATURE_TYPE, "code": kind[0], "display": kind[1]}],
        "when": when.isoformat(),
        "who": who,
        "targetFormat": "application/json",
        "data": base64.b64encode(bytes.fromhex(sha)).decode("ascii"),
    }


def _provenance(
    resource_id: str, targets: list[dict[str, Any]], recorded: datetime, agents: list[Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Provenance",
        "id": resource_id,
        "target": targets,
        "recorded": recorded.isoformat(),
        "activity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "code": "UPDATE",
                    "display": "revise",
                }
            ],
            "text": "signed",
        },
        "agent": agents,
    }


# -- signed infusion sessions --------------------------------------------------------------------


def session_provenance_json(record: SignedRecord, signatures: Sequence[Any]) -> dict[str, Any]:
    session_id = record.session_id
    targets = [
        {"reference": f"Encounter/{session_id}"},
        {"reference": f"MedicationAdministration/{session_id}"},
    ]
    resource = _provenance(f"session-{session_id}", targets, record.signed_at, [])
    resource["agent"] = [_agent(_staff(s.signed_by_id), "attester") for s in signatures]
    resource["signature"] = [
        _signature(
            AUTHOR if s.role == Role.NURSE else VERIFICATION,
            s.signed_at,
            _staff(s.signed_by_id),
            record.sha256,
        )
        for s in signatures
    ]
    if not resource["agent"]:  # a record frozen by a migration or import: nobody to name
        resource["agent"] = [{"who": {"display": "KetaClinic (system)"}}]
        del resource["signature"]
    return resource


def _build_sessions(rows: Sequence[Any]) -> list[Built]:
    signers: dict[Any, list[Any]] = {}
    for signature in SessionSignature.objects.filter(
        session_id__in=[r.session_id for r in rows]
    ).order_by("signed_at", "pk"):
        signers.setdefault(signature.session_id, []).append(signature)
    return [
        Built(
            f"session-{r.session_id}",
            validated(FhirProvenance, session_provenance_json(r, signers.get(r.session_id, []))),
            r.session.course.patient_id,
            getattr(r, LAST_UPDATED),
        )
        for r in rows
    ]


def _prefixed(prefix: str, parse: Any) -> Any:
    def key(raw: str) -> Any:
        return parse(raw.removeprefix(prefix)) if raw.startswith(prefix) else None

    return key


_session_key = _prefixed("session-", uuid_or_none)
_decision_key = _prefixed("decision-", int_id(""))
_consent_key = _prefixed("consent-", int_id(""))


def _ids(field: str, key: Any) -> Any:
    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        found = [k for k in map(key, raw.split(",")) if k is not None]
        return rows.filter(**{f"{field}__in": found})

    return apply


def _lookup(field: str, key: Any) -> Any:
    def find(raw: str) -> Q | None:
        found = key(raw)
        return None if found is None else Q(**{field: found})

    return find


def _targets(mapping: dict[str, tuple[str, Any]]) -> Any:
    """``target=<Type>/<id>`` for the types this source's records target:
    type -> (field, the FHIR id -> the field's value or None)."""

    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        condition = Q(pk__in=[])
        for part in raw.split(","):
            head, _, target_id = part.rstrip("/").rpartition("/")
            found = mapping.get(head.rsplit("/", 1)[-1])
            if found is None:
                continue
            value = found[1](target_id)
            if value is not None:
                condition |= Q(**{found[0]: value})
        return rows.filter(condition)

    return apply


def _agent_filter(*fields: str) -> Any:
    """``agent=Practitioner/staff-<n>``: records that staff member signed, recorded or
    witnessed (any of ``fields``)."""

    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        keys = [practitioner_pk(reference(part, "Practitioner")) for part in raw.split(",")]
        found = [k for k in keys if k is not None]
        condition = Q(pk__in=[])
        for field in fields:
            condition |= Q(**{f"{field}__in": found})
        return rows.filter(condition).distinct()

    return apply


SESSION_PROVENANCE = Source(
    rows=lambda user: SignedRecord.objects.filter(
        session__course__patient__in=patients_visible_to(user)
    ).defer("snapshot_json"),
    inserted="signed_at",
    last_updated=F("signed_at"),  # a signed record never changes
    dates=F("signed_at"),
    filters={
        "_id": _ids("session_id", _session_key),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": reference_filter("session__course__patient", "Patient", uuid_or_none),
        "recorded": date_filter("signed_at"),
        "target": _targets(
            {
                "Encounter": ("session_id", uuid_or_none),
                "MedicationAdministration": ("session_id", uuid_or_none),
            }
        ),
        "agent": _agent_filter("session__signatures__signed_by"),
    },
    build=_build_sessions,
    lookup=_lookup("session_id", _session_key),
    prefetch=("session__course",),
)


# -- signed eligibility decisions ----------------------------------------------------------------


def decision_provenance_json(decision: EligibilityDecision) -> dict[str, Any]:
    who = _staff(decision.decided_by_id)
    target = {
        "identifier": {
            "system": f"{canonical_base()}/sid/eligibility-decision",
            "value": str(decision.pk),
        },
        "display": f"Eligibility decision: {decision.get_decision_display()}",
    }
    resource = _provenance(f"decision-{decision.pk}", [target], decision.decided_at, [])
    resource["agent"] = [_agent(who, "author")]
    resource["signature"] = [_signature(AUTHOR, decision.decided_at, who, decision.digest)]
    return resource


_build_decisions = rows_built(FhirProvenance, decision_provenance_json, "decision-")


DECISION_PROVENANCE = Source(
    rows=lambda user: EligibilityDecision.objects.filter(
        patient__in=patients_visible_to(user)
    ).defer("snapshot"),
    inserted="decided_at",
    last_updated=F("decided_at"),  # never updated: a later decision is a new row
    dates=F("decided_at"),
    filters={
        "_id": _ids("pk", _decision_key),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": reference_filter("patient", "Patient", uuid_or_none),
        "recorded": date_filter("decided_at"),
        "agent": _agent_filter("decided_by"),
    },
    build=_build_decisions,
    lookup=_lookup("pk", _decision_key),
)


# -- signed consents -----------------------------------------------------------------------------


def consent_provenance_json(signature: ConsentSignature) -> dict[str, Any]:
    patient = {"reference": f"Patient/{signature.patient_id}"}
    recorder = _staff(signature.recorded_by_id)
    targets = [
        {"reference": f"Consent/{signature.pk}"},
        {"reference": f"DocumentReference/consent-{signature.pk}"},
    ]
    resource = _provenance(f"consent-{signature.pk}", targets, signature.signed_at, [])
    agents = [_agent(patient, "author"), _agent(recorder, "enterer")]
    signatures = [_signature(CONSENT, signature.signed_at, patient, signature.digest)]
    if signature.witnessed_by_id is not None:
        witness = _staff(signature.witnessed_by_id)
        agents.append(_agent(witness, "attester"))
        signatures.append(_signature(WITNESS, signature.signed_at, witness, signature.digest))
    resource["agent"] = agents
    resource["signature"] = signatures
    return resource


_build_consents = rows_built(FhirProvenance, consent_provenance_json, "consent-")


def _consent_target(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


CONSENT_PROVENANCE = Source(
    rows=lambda user: ConsentSignature.objects.filter(patient__in=patients_visible_to(user)).defer(
        "signature_image"
    ),
    inserted="signed_at",
    last_updated=F("signed_at"),  # written once, never changed
    dates=F("signed_at"),
    filters={
        "_id": _ids("pk", _consent_key),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": reference_filter("patient", "Patient", uuid_or_none),
        "recorded": date_filter("signed_at"),
        "target": _targets(
            {
                "Consent": ("pk", _consent_target),
                "DocumentReference": ("pk", _consent_key),
            }
        ),
        "agent": _agent_filter("recorded_by", "witnessed_by"),
    },
    build=_build_consents,
    lookup=_lookup("pk", _consent_key),
)

PROVENANCE_SOURCES = (SESSION_PROVENANCE, DECISION_PROVENANCE, CONSENT_PROVENANCE)
