"""Questionnaire schedules: making them (a service) and the clinic's list of what is due.

The due arithmetic is the pure ``scheduling.due_items``; this module feeds it from the
database in a fixed number of queries, whatever the number of patients.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.patients.models import Patient
from ketaclinic.scales import instruments, scheduling, trends
from ketaclinic.scales.models import Administration, Phase, RuleKind, ScaleSchedule


@transaction.atomic
def schedule_create(
    *,
    acting_user: Any,
    patient: Patient,
    instrument_code: str,
    rule_kind: RuleKind | str,
    interval_days: int | None = None,
    grace_days: int = 2,
    phase: Phase | str = Phase.ANY,
    starts_on: date | None = None,
) -> ScaleSchedule:
    require(acting_user, "scales.enter")
    if instrument_code not in instruments.BUILTIN_CODES:
        raise ValidationError({"instrument": ["unknown instrument"]})
    if rule_kind == RuleKind.INTERVAL and not interval_days:
        raise ValidationError({"interval_days": ["an interval in days is needed for this rule"]})
    schedule = ScaleSchedule(
        patient=patient,
        instrument=instrument_code,
        rule_kind=rule_kind,
        interval_days=interval_days,
        grace_days=grace_days,
        phase=phase,
        starts_on=starts_on or timezone.localdate(),
        created_by=acting_user,
    )
    schedule.full_clean(exclude=["patient", "created_by"])
    schedule.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="ScaleSchedule",
        object_id=schedule.pk,
        patient_id=patient.pk,
    )
    return schedule


def schedule_rule(schedule: ScaleSchedule) -> scheduling.Rule:
    kind: scheduling.RuleKind = schedule.rule_kind  # type: ignore[assignment]
    return scheduling.Rule(
        instrument=schedule.instrument,
        kind=kind,
        starts_on=schedule.starts_on,
        interval_days=schedule.interval_days,
        grace_days=schedule.grace_days,
        phase=schedule.phase,
    )


@dataclass(frozen=True)
class DueRow:
    patient: Patient
    schedule: ScaleSchedule
    item: scheduling.DueItem


def _local_date(moment: datetime) -> date:
    return timezone.localdate(moment)


def due_list_for_user(user: Any, *, today: date | None = None) -> list[DueRow]:
    """Due and overdue questionnaires of every patient with an active schedule, overdue first.
    Staff only; each listed patient is an audited read. A fixed number of queries."""
    require(user, "patient.view_any")
    day = today or timezone.localdate()
    schedules = list(
        ScaleSchedule.objects.filter(active=True).select_related("patient").order_by("pk")
    )
    due = _due_rows(schedules, day)
    listed = {row.patient.pk: row.patient for row in due}
    if listed:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Patient", str(pk), pk) for pk in listed],
            )
    return due


def due_for_patient(patient: Patient, *, today: date | None = None) -> list[DueRow]:
    """The patient's own due and overdue questionnaires, overdue first (the patient portal).
    The caller has checked access to the patient and records the read. A fixed few queries."""
    day = today or timezone.localdate()
    schedules = list(ScaleSchedule.objects.filter(active=True, patient=patient).order_by("pk"))
    for schedule in schedules:
        schedule.patient = patient
    return _due_rows(schedules, day)


def _due_rows(schedules: list[ScaleSchedule], day: date) -> list[DueRow]:
    """The due rows of these schedules (their patients preloaded), overdue first."""
    if not schedules:
        return []
    patient_ids = {schedule.patient_id for schedule in schedules}
    codes = {schedule.instrument for schedule in schedules}
    answered: dict[tuple[UUID, str], list[date]] = defaultdict(list)
    # Interval rules need only the latest answer; infusion rules the answers of the last days.
    latest = (
        Administration.objects.filter(patient_id__in=patient_ids, instrument__in=codes)
        .values("patient_id", "instrument")
        .annotate(last=Max("administered_at"))
        .order_by()
    )
    for row in latest:
        answered[(row["patient_id"], row["instrument"])].append(_local_date(row["last"]))
    lookback = max(
        (
            schedule_rule(s).window_days + s.grace_days + 1
            for s in schedules
            if s.rule_kind == RuleKind.BEFORE_INFUSION
        ),
        default=0,
    )
    if lookback:
        since = timezone.make_aware(datetime.combine(day - timedelta(days=lookback), time.min))
        recent = Administration.objects.filter(
            patient_id__in=patient_ids, instrument__in=codes, administered_at__gte=since
        ).values_list("patient_id", "instrument", "administered_at")
        for patient_id, code, moment in recent:
            answered[(patient_id, code)].append(_local_date(moment))
    # Booked sessions, coming ones included, matter only to the before-infusion rules.
    infusions = trends.session_times_for_many(patient_ids) if lookback else {}

    due: list[DueRow] = []
    for schedule in schedules:
        items = scheduling.due_items(
            schedule_rule(schedule),
            answered[(schedule.patient_id, schedule.instrument)],
            today=day,
            infusions_on=[_local_date(m) for m in infusions.get(schedule.patient_id, [])],
        )
        due += [DueRow(schedule.patient, schedule, item) for item in items]
    due.sort(key=lambda row: (row.item.status != "overdue", row.item.due_on, row.patient.mrn))
    return due


def schedules_for_patient(patient: Patient) -> list[ScaleSchedule]:
    """The patient's schedules (the caller has already checked access to the patient)."""
    return list(ScaleSchedule.objects.filter(patient=patient).order_by("-active", "instrument"))


def pre_infusion_outstanding(
    patient_id: UUID, *, infusion_at: datetime, current_phase: str | None = None
) -> list[str]:
    """The instruments the patient's active ``before_infusion`` schedules still ask for before
    an infusion at ``infusion_at`` (codes, sorted; empty when all are answered or none is
    scheduled). Two queries at most; the caller has checked access to the patient."""
    rules = [
        schedule_rule(schedule)
        for schedule in ScaleSchedule.objects.filter(
            patient_id=patient_id, active=True, rule_kind=RuleKind.BEFORE_INFUSION
        )
    ]
    if not rules:
        return []
    day = _local_date(infusion_at)
    widest = max(rule.window_days for rule in rules)
    since = timezone.make_aware(datetime.combine(day - timedelta(days=widest), time.min))
    answered: dict[str, list[date]] = defaultdict(list)
    for code, moment in Administration.objects.filter(
        patient_id=patient_id,
        instrument__in={rule.instrument for rule in rules},
        administered_at__gte=since,
        administered_at__lte=infusion_at,
    ).values_list("instrument", "administered_at"):
        answered[code].append(_local_date(moment))
    return scheduling.outstanding_before_infusion(
        rules, answered, infusion_on=day, current_phase=current_phase
    )
