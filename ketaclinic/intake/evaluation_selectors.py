"""Reads for eligibility and consent: access checked, related rows preloaded, reads audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.intake.models_eligibility import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
    Evaluation,
    RuleSetVersion,
)
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to

LIST_LIMIT = 100


def _int_id(raw: int | str) -> int | None:
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _audit_reads(user: Any, object_type: str, rows: list[Any]) -> None:
    if rows:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget(object_type, str(r.pk), r.patient_id) for r in rows],
            )


def _evaluations() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related("ruleset", "created_by", "patient")


def evaluation_get_for_user(user: Any, evaluation_id: int | str) -> Evaluation:
    """An evaluation the user may see; Evaluation.DoesNotExist (404) as for a missing id."""
    require(user, "evaluation.view")
    pk = _int_id(evaluation_id)
    if pk is None:
        raise Evaluation.DoesNotExist
    evaluation = _evaluations().get(pk=pk, patient__in=patients_visible_to(user))
    _audit_reads(user, "Evaluation", [evaluation])
    return evaluation


def evaluations_list_for_patient(user: Any, patient: Patient) -> list[Evaluation]:
    require(user, "evaluation.view")
    rows = list(_evaluations().filter(patient=patient).order_by("-created_at", "-id")[:LIST_LIMIT])
    _audit_reads(user, "Evaluation", rows)
    return rows


def evaluation_latest_id(patient: Patient) -> int | None:
    """The id of the patient's latest evaluation: the only one a decision may be made on."""
    return (
        Evaluation.objects.filter(patient=patient)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def decisions_by_evaluation(evaluations: list[Evaluation]) -> dict[int, EligibilityDecision]:
    """The latest decision of each evaluation, in one query."""
    latest: dict[int, EligibilityDecision] = {}
    rows = EligibilityDecision.objects.filter(evaluation__in=evaluations).select_related(
        "decided_by"
    )
    for row in rows.order_by("decided_at", "id"):
        latest[row.evaluation_id] = row
    return latest


def consent_documents_current(user: Any) -> list[ConsentDocument]:
    """The active version of every consent document (no patient data: not audited)."""
    require(user, "consent.view")
    return list(ConsentDocument.objects.filter(active=True).order_by("code"))


def _signatures() -> QuerySet[ConsentSignature]:
    return ConsentSignature.objects.select_related(
        "document", "patient", "witnessed_by", "recorded_by"
    )


def consent_signatures_for_patient(user: Any, patient: Patient) -> list[ConsentSignature]:
    """The patient's signatures (``patient`` comes from ``patient_get_for_user``)."""
    require(user, "consent.view")
    rows = list(_signatures().filter(patient=patient).order_by("-signed_at", "-id")[:LIST_LIMIT])
    _audit_reads(user, "ConsentSignature", rows)
    return rows


def consent_signature_get_for_user(user: Any, signature_id: int | str) -> ConsentSignature:
    """A signature the user may see (a patient: their own); DoesNotExist (404) otherwise."""
    require(user, "consent.view")
    pk = _int_id(signature_id)
    if pk is None:
        raise ConsentSignature.DoesNotExist
    signature = _signatures().get(pk=pk, patient__in=patients_visible_to(user))
    _audit_reads(user, "ConsentSignature", [signature])
    return signature


def ruleset_versions(limit: int = 20) -> list[RuleSetVersion]:
    """The latest rule-set versions, newest first, for the editor's history."""
    return list(
        RuleSetVersion.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]
    )
