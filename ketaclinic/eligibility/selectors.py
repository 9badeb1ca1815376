"""Reads for eligibility: access checked, related rows preloaded, reads audited."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.audit.services import audit_reads
from ketaclinic.eligibility.models import (
    EligibilityDecision,
    Evaluation,
    RuleSetVersion,
)
from ketaclinic.lib.ids import int_id
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to

LIST_LIMIT = 100


def _evaluations() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related("ruleset", "created_by", "patient")


def evaluation_get_for_user(user: Any, evaluation_id: int | str) -> Evaluation:
    """An evaluation the user may see; Evaluation.DoesNotExist (404) as for a missing id."""
    require(user, "evaluation.view")
    pk = int_id(evaluation_id)
    if pk is None:
        raise Evaluation.DoesNotExist
    evaluation = _evaluations().get(pk=pk, patient__in=patients_visible_to(user))
    audit_reads(user, "Evaluation", [evaluation])
    return evaluation


def evaluations_list_for_patient(user: Any, patient: Patient) -> list[Evaluation]:
    require(user, "evaluation.view")
    rows = list(_evaluations().filter(patient=patient).order_by("-created_at", "-id")[:LIST_LIMIT])
    audit_reads(user, "Evaluation", rows)
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


def ruleset_versions(limit: int = 20) -> list[RuleSetVersion]:
    """The latest rule-set versions, newest first, for the editor's history."""
    return list(
        RuleSetVersion.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]
    )
