from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.services import AuditTarget, audit_record_many


def audit_events_filter(
    *,
    patient_id: UUID | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first. The caller has checked that the user may read the audit trail."""
    rows = AuditEvent.objects.all()
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if actor_id is not None:
        rows = rows.filter(actor_id=actor_id)
    if action:
        rows = rows.filter(action=action)
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    return list(rows.order_by("-seq")[:limit])


def events_naming(object_types: list[str], object_id: str) -> Q:
    """The events about one record ("who read this record?"): those naming it alone, and the
    pages of reads (a FHIR search page: `services.page_target`) whose ids include it."""
    return Q(object_type__in=object_types) & (
        Q(object_id=object_id)
        | Q(object_ids=object_id)
        | Q(object_ids__startswith=f"{object_id} ")
        | Q(object_ids__endswith=f" {object_id}")
        | Q(object_ids__contains=f" {object_id} ")
    )


# -- the administrator's page -------------------------------------------------------------------

ACTION_WORDS: dict[str, str] = {
    Action.CREATE.value: "Created",
    Action.READ.value: "Viewed",
    Action.UPDATE.value: "Changed",
    Action.DELETE.value: "Deleted",
    Action.EXECUTE.value: "Signed, decided or exported",
}


def kind_words(object_type: str) -> str:
    """`SessionChange` -> `Session change`; `PHQ9` stays as written."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", object_type)
    return words[:1] + words[1:].lower() if words else words


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    patient_id: UUID | None = None
    object_type: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def with_patient(self, patient_id: UUID) -> AuditFilter:
        return replace(self, patient_id=patient_id)


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    who: str
    role: str
    action: str
    kind: str
    patient: Any | None
    """The patient row (name and MRN), when the event is about one that still exists."""


class AuditPage(Page):  # type: ignore[type-arg]
    patient_label: str = ""


def _in_clinic_day(day: date, end: bool) -> datetime:
    zone = timezone.get_current_timezone()
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    return timezone.make_aware(moment, zone)


def patient_id_for_mrn(mrn: str) -> UUID | None:
    from ketaclinic.patients.models import Patient

    return Patient.objects.filter(mrn__iexact=mrn).values_list("pk", flat=True).first()


def audit_filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The people (staff and patients who acted) and the kinds of record, for the selects."""
    from ketaclinic.accounts.models import User

    people = [
        (str(u.pk), f"{u.get_full_name() or u.username} ({u.username}, {_role_label(u.role)})")
        for u in User.objects.exclude(role="patient").order_by(
            "last_name", "first_name", "username"
        )
    ]
    kinds = sorted(AuditEvent.objects.values_list("object_type", flat=True).distinct())
    return {"people": people, "kinds": [(k, kind_words(k)) for k in kinds]}


def audit_page_for_user(user: Any, filters: AuditFilter, page: str, per_page: int) -> AuditPage:
    """One page of events, newest first, with names, roles and patients in words: a fixed
    number of queries. The patients named on the page are an audited read."""
    from ketaclinic.accounts.models import User
    from ketaclinic.patients.models import Patient

    require(user, "audit.view")
    rows = AuditEvent.objects.select_related("actor")
    if filters.actor_id is not None:
        rows = rows.filter(actor_id=filters.actor_id)
    if filters.patient_id is not None:
        rows = rows.filter(patient_id=filters.patient_id)
    if filters.object_type:
        rows = rows.filter(object_type=filters.object_type)
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.date_from is not None:
        rows = rows.filter(at__gte=_in_clinic_day(filters.date_from, end=False))
    if filters.date_to is not None:
        rows = rows.filter(at__lt=_in_clinic_day(filters.date_to, end=True))
    paginator = Paginator(rows.order_by("-seq"), per_page)
    found = paginator.get_page(page)
    events = list(found.object_list)
    patient_ids = {e.patient_id for e in events if e.patient_id} | (
        {filters.patient_id} if filters.patient_id else set()
    )
    patients = {p.pk: p for p in Patient.objects.filter(pk__in=patient_ids)}
    user_ids = {
        int(e.object_id) for e in events if e.object_type == "User" and e.object_id.isdigit()
    }
    usernames = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    result = AuditPage(
        [
            AuditRow(
                event=e,
                who=(e.actor.get_full_name() or e.actor.username) if e.actor else "System",
                role=_role_label(e.actor_role),
                action=ACTION_WORDS.get(e.action, e.action),
                kind=_kind(e, usernames),
                patient=patients.get(e.patient_id) if e.patient_id else None,
            )
            for e in events
        ],
        found.number,
        paginator,
    )
    if filters.patient_id is not None:
        chosen = patients.get(filters.patient_id)
        result.patient_label = (
            f"{chosen.family_name}, {chosen.given_name} ({chosen.mrn})"
            if chosen
            else "no such patient"
        )
    if patients:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Patient", str(pk), pk) for pk in sorted(patients, key=str)],
            )
    return result


def _kind(event: AuditEvent, usernames: dict[int, str]) -> str:
    words = kind_words(event.object_type)
    if event.object_ids:  # a page of records read at once: how many (the ids in Details)
        return f"{words} ({len(event.object_id_list)} records)"
    if event.object_type == "User" and event.object_id.isdigit():
        name = usernames.get(int(event.object_id))
        return f"{words} {name}" if name else words
    return words


def _role_label(role: str) -> str:
    from ketaclinic.accounts.roles import Role

    try:
        return Role(role).label
    except ValueError:
        return role or "—"
