"""Reads of patient records: access checked, related rows preloaded, every read audited."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q, QuerySet

from ketaclinic.accounts.access import user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag

LIST_LIMIT = 50


def patients_visible_to(user: Any) -> QuerySet[Patient]:
    """The patients a user may see: all for clinic staff, their own for a patient, else none."""
    if user_can(user, "patient.view_any"):
        return Patient.objects.all()
    if user_can(user, "patient.view_own") and getattr(user, "patient_id", None):
        return Patient.objects.filter(pk=user.patient_id)
    return Patient.objects.none()


def _parse_id(patient_id: UUID | str) -> UUID | None:
    if isinstance(patient_id, UUID):
        return patient_id
    try:
        return UUID(str(patient_id))
    except ValueError:
        return None


def patient_get_for_user(user: Any, patient_id: UUID | str, *, audit: bool = True) -> Patient:
    """The patient, if the user may see it; else Patient.DoesNotExist, as for a missing id."""
    pk = _parse_id(patient_id)
    if pk is None:
        raise Patient.DoesNotExist
    patient = patients_visible_to(user).get(pk=pk)
    if audit:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Patient", str(patient.pk), patient.pk)],
            )
    return patient


def _patients_matching(user: Any, query: str) -> QuerySet[Patient]:
    rows = patients_visible_to(user)
    # No name holds a NUL, and PostgreSQL refuses one in a query parameter (a 500): drop them.
    for word in query.replace("\x00", " ").split()[:5]:
        rows = rows.filter(
            Q(given_name__icontains=word) | Q(family_name__icontains=word) | Q(mrn__iexact=word)
        )
    return rows.order_by("family_name", "given_name", "mrn")


def _audit_listed(user: Any, patients: list[Patient]) -> None:
    if patients:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Patient", str(p.pk), p.pk) for p in patients],
            )


def patient_list_for_user(user: Any, query: str = "", *, limit: int = LIST_LIMIT) -> list[Patient]:
    """Search by name or MRN (every word must match); each patient listed is an audited read."""
    patients = list(_patients_matching(user, query)[:limit])
    _audit_listed(user, patients)
    return patients


def patient_page_for_user(
    user: Any, query: str = "", page: int | str = 1, *, per_page: int = LIST_LIMIT
) -> Page[Patient]:
    """One page of the patients matching ``query`` (as ``patient_list_for_user``): a bad or
    out-of-range page number gives the first or last page. Only the rows shown are audited
    reads; the count is one more query."""
    found = Paginator(_patients_matching(user, query), per_page).get_page(page)
    found.object_list = list(found.object_list)
    _audit_listed(user, found.object_list)
    return found


def patient_open_flags(patient: Patient) -> list[SafetyFlag]:
    return list(SafetyFlag.objects.filter(patient=patient, status=FlagStatus.ACTIVE))


def patient_acknowledged_flags(patient: Patient, *, limit: int = 20) -> list[SafetyFlag]:
    """The patient's acknowledged flags, most recently acknowledged first (kept, never
    deleted), with who acknowledged them. Part of the record's audited read."""
    return list(
        SafetyFlag.objects.filter(patient=patient, status=FlagStatus.ACKNOWLEDGED)
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at", "-pk")[:limit]
    )
