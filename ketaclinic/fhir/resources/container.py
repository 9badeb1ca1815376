"""Ketamine containers received into the ledger as R4 Medications: product, NDC, concentration
(``ingredient.strength``) and lot with expiry (``batch``). Not patient data, but each read is
audited like the others (object type ``LedgerContainer``).

Codes: RxNorm ingredient 6130 ketamine and the container's NDC (../shared/domain/codes.md,
"Medication"; the RxNorm code is marked "verify" there, so it is an editable default [U]). Staff
who may see the ledger see every container; a patient sees the containers drawn for their own
sessions (the Medication their MedicationAdministration names); intake sees none."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.medication import Medication as FhirMedication

from ketaclinic.accounts.access import user_can
from ketaclinic.fhir.resources.common import id_filter, int_id, pk_lookup, validated
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.fhir.search.params import token
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.patients.selectors import patients_visible_to

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
UCUM = "http://unitsofmeasure.org"
# ../shared/domain/codes.md, "Medication": "Ketamine: RxNorm ingredient 6130 (verify)".
KETAMINE_RXNORM = ("6130", "ketamine")
KETAMINE_CONCEPT: dict[str, Any] = {
    "coding": [{"system": RXNORM, "code": KETAMINE_RXNORM[0], "display": KETAMINE_RXNORM[1]}],
    "text": "ketamine",
}

container_pk = int_id("container-")


def medication_id(container_pk_value: int) -> str:
    return f"container-{container_pk_value}"


def _number(value: Any) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def medication_json(container: Container) -> dict[str, Any]:
    receipt = container.receipt
    codings = [{"system": RXNORM, "code": KETAMINE_RXNORM[0], "display": KETAMINE_RXNORM[1]}]
    if container.ndc:
        codings.append({"system": NDC, "code": container.ndc})
    return {
        "resourceType": "Medication",
        "id": medication_id(container.pk),
        "identifier": [{"system": "urn:ketaclinic:ledger-container", "value": str(container.pk)}],
        "code": {"coding": codings, "text": receipt.product_name},
        "status": "active",
        "form": {"text": receipt.form},
        "amount": {
            "numerator": {
                "value": _number(container.nominal_ml),
                "unit": "mL",
                "system": UCUM,
                "code": "mL",
            },
            "denominator": {"value": 1, "unit": "container"},
        },
        "ingredient": [
            {
                "itemCodeableConcept": KETAMINE_CONCEPT,
                "isActive": True,
                "strength": {
                    "numerator": {
                        "value": _number(container.mg_per_ml),
                        "unit": "mg",
                        "system": UCUM,
                        "code": "mg",
                    },
                    "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"},
                },
            }
        ],
        "batch": {"lotNumber": container.lot, "expirationDate": container.expires_on.isoformat()},
    }


def session_containers(session_ids: Iterable[Any]) -> dict[Any, list[int]]:
    """The containers drawn from for each session, in the order drawn (one query)."""
    found: dict[Any, list[int]] = {}
    rows = (
        LedgerEntry.objects.filter(session_id__in=list(session_ids), kind=EntryKind.DRAW)
        .order_by("seq")
        .values_list("session_id", "container_id")
    )
    for session_id, container_id in rows:
        drawn = found.setdefault(session_id, [])
        if container_id not in drawn:
            drawn.append(container_id)
    return found


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            medication_id(c.pk),
            validated(FhirMedication, medication_json(c)),
            None,
            getattr(c, LAST_UPDATED),
        )
        for c in rows
    ]


def _rows(user: Any) -> QuerySet[Any]:
    if user_can(user, "ledger.view"):
        return Container.objects.all()
    if user_can(user, "patient.view_own"):
        drawn = LedgerEntry.objects.filter(
            kind=EntryKind.DRAW, session__course__patient__in=patients_visible_to(user)
        ).values("container_id")
        return Container.objects.filter(pk__in=drawn)
    return Container.objects.none()


def _code(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    condition = Q(pk__in=[])
    for part in raw.split(","):
        wanted = token(part)
        if wanted.code == KETAMINE_RXNORM[0] and wanted.system in (None, RXNORM):
            condition |= Q(pk__isnull=False)
        if wanted.system in (None, NDC):
            condition |= Q(ndc=wanted.code)
    return rows.filter(condition)


def _lot(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    return rows.filter(lot__in=raw.split(","))


MEDICATION_SOURCE = Source(
    rows=_rows,
    inserted="receipt__created_at",
    last_updated=F("receipt__created_at"),  # a received container's facts never change
    dates=F("expires_on"),
    filters={
        "_id": id_filter(container_pk),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "code": _code,
        "lot-number": _lot,
        "expiration-date": date_filter("expires_on"),
    },
    build=_build,
    lookup=pk_lookup(container_pk),
    prefetch=("receipt",),
)
