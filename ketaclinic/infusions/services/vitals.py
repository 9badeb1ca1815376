"""Vital signs and the alerts their values raise."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import Course
from ketaclinic.infusions.models import Session, SessionAlert, SessionStatus, VitalsReading
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.infusions.rules import monitoring
from ketaclinic.infusions.services.common import (
    CHARTING,
    _audit,
    _aware,
    _locked,
    _require_status,
    _require_status_of,
    protocol_definition,
)

NOTE_MAX = 2000
"""As the model's column."""


@dataclass(frozen=True)
class VitalsIn:
    at: datetime
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int
    respiratory_rate: int
    moaas: int | None = None


def _pure_vitals(row: VitalsReading | VitalsIn) -> monitoring.Vitals:
    return monitoring.Vitals(
        systolic_mmhg=row.systolic_mmhg,
        diastolic_mmhg=row.diastolic_mmhg,
        heart_rate_bpm=row.heart_rate_bpm,
        spo2_percent=row.spo2_percent,
        respiratory_rate=row.respiratory_rate,
        moaas=row.moaas,
    )


@dataclass
class VitalsRecorded:
    reading: VitalsReading
    alerts: list[SessionAlert]
    created: bool
    """False when an earlier post with the same idempotency key stored the row."""
    hold: bool
    """Before the start: whether the values hold the dose for clinician review."""


def _thresholds(protocol: ProtocolDefinition, phase: str) -> tuple[Any, ...]:
    if phase == SessionStatus.CHECKED_IN:
        return protocol.predose_holds
    return protocol.alerts


def _replayed(session: Session | UUID, key: str) -> VitalsRecorded | None:
    pk = session if isinstance(session, UUID) else session.pk
    row = VitalsReading.objects.filter(session_id=pk, idempotency_key=key).first()
    return None if row is None else _replay_of(row)


RETRY_STAMP_TOLERANCE = timedelta(minutes=5)
KEY_REUSED = (
    "This key was used for a different reading. Nothing was stored: use a new key for a new "
    "reading."
)


def _same_reading(row: VitalsReading, vitals: VitalsIn, acting_user: Any) -> bool:
    """Whether a retry under a stored reading's key carries the same reading: otherwise the
    new values (a systolic of 190, say) must not be dropped silently. The time may differ by
    a few minutes (a tablet may stamp each attempt anew); the values and the nurse may not."""
    return (
        abs(row.at - vitals.at) <= RETRY_STAMP_TOLERANCE
        and row.systolic_mmhg == vitals.systolic_mmhg
        and row.diastolic_mmhg == vitals.diastolic_mmhg
        and row.heart_rate_bpm == vitals.heart_rate_bpm
        and row.spo2_percent == vitals.spo2_percent
        and row.respiratory_rate == vitals.respiratory_rate
        and row.moaas == vitals.moaas
        and row.recorded_by_id == getattr(acting_user, "pk", None)
    )


def _replay_checked(row: VitalsReading, vitals: VitalsIn, acting_user: Any) -> VitalsRecorded:
    if not _same_reading(row, vitals, acting_user):
        raise ValidationError({"Idempotency-Key": [KEY_REUSED]})
    return _replay_of(row)


def _replay_of(row: VitalsReading) -> VitalsRecorded:
    alerts = list(SessionAlert.objects.filter(vitals=row).order_by("pk"))
    hold = row.phase == SessionStatus.CHECKED_IN and bool(alerts)
    return VitalsRecorded(reading=row, alerts=alerts, created=False, hold=hold)


@dataclass(frozen=True)
class _VitalsTarget:
    """What a vitals post needs of its session, read with the row locked."""

    session_id: UUID
    status: str
    patient_id: UUID
    protocol_id: int
    replay_id: int | None
    """The reading an earlier post with the same idempotency key stored, if any."""


@functools.cache
def _vitals_target_sql(*, with_key: bool) -> str:
    session, course, reading = Session._meta, Course._meta, VitalsReading._meta
    # Only our own table names are put into the text; values are parameters.
    replay = "NULL"
    if with_key:  # the second condition names the unique index's rows
        replay = (
            f"(SELECT v.id FROM {reading.db_table} v WHERE v.session_id = s.id "  # noqa: S608
            "AND v.idempotency_key = %s AND v.idempotency_key <> '')"
        )
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT s.status, c.patient_id, c.protocol_id, {replay} "  # noqa: S608
        f"FROM {session.db_table} s JOIN {course.db_table} c ON c.id = s.course_id "
        f"WHERE s.id = %s{lock}"
    )


def _locked_for_vitals(session: Session | UUID, key: str) -> _VitalsTarget:
    """The session row, locked as `_locked` locks it, with its patient and protocol ids and
    the earlier reading of this idempotency key, in one query.

    Written out by hand: this is the hot path of the chair-side tablets, and the ORM spends
    several times the CPU of the query composing the locked read with its subquery. (On
    SQLite there is no row lock: its transactions take the write lock at BEGIN.)

    A retry that commits while this one waits for the lock is not seen by the subquery (it
    reads the statement's snapshot); its row then makes our insert fail on the unique
    constraint, and `vitals_record` answers with that row.
    """
    pk = session if isinstance(session, UUID) else session.pk
    db_pk = Session._meta.pk.get_db_prep_value(pk, connection)
    params: list[Any] = [key, db_pk] if key else [db_pk]
    with connection.cursor() as cursor:
        cursor.execute(_vitals_target_sql(with_key=bool(key)), params)
        row = cursor.fetchone()
    if row is None:
        raise Session.DoesNotExist
    status, patient_id, protocol_id, replay_id = row
    return _VitalsTarget(
        session_id=pk,
        status=str(status),
        patient_id=patient_id if isinstance(patient_id, UUID) else UUID(str(patient_id)),
        protocol_id=int(protocol_id),
        replay_id=None if replay_id is None else int(replay_id),
    )


def vitals_record(
    *, acting_user: Any, session: Session | UUID, vitals: VitalsIn, idempotency_key: str = ""
) -> VitalsRecorded:
    """Store one set of vitals and the alerts its values raise (protocol thresholds: the
    pre-dose holds before the start, the infusion alerts from the start until discharge).
    Implausible values are refused (ValidationError, 422) and nothing is stored. Given a
    session id, the row is read once, locked (the hot path of the chair-side tablets)."""
    key = idempotency_key.strip()
    try:
        return _vitals_record(
            acting_user=acting_user, session=session, vitals=vitals, idempotency_key=key
        )
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer with its row.
        replay = _replayed(session, key) if key else None
        if replay is None:
            raise
        return _replay_checked(replay.reading, vitals, acting_user)


@transaction.atomic
def _vitals_record(
    *, acting_user: Any, session: Session | UUID, vitals: VitalsIn, idempotency_key: str
) -> VitalsRecorded:
    require(acting_user, "session.chart")
    if len(idempotency_key) > 100:
        raise ValidationError({"Idempotency-Key": ["At most 100 characters."]})
    _aware("at", vitals.at)
    target = _locked_for_vitals(session, idempotency_key)
    if target.replay_id is not None:
        row = VitalsReading.objects.get(pk=target.replay_id)
        return _replay_checked(row, vitals, acting_user)
    _require_status_of(target.status, CHARTING, "Vital signs")
    protocol = protocol_definition(target.protocol_id)
    pure = _pure_vitals(vitals)
    problems = monitoring.vitals_check_plausible(vitals=pure, limits=protocol.vitals_plausibility)
    if problems:
        raise ValidationError({p.field: [p.message] for p in problems})
    if vitals.at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"at": ["Must not be in the future."]})
    phase = target.status
    reading = VitalsReading(
        session_id=target.session_id,
        at=vitals.at,
        phase=phase,
        systolic_mmhg=vitals.systolic_mmhg,
        diastolic_mmhg=vitals.diastolic_mmhg,
        heart_rate_bpm=vitals.heart_rate_bpm,
        spo2_percent=vitals.spo2_percent,
        respiratory_rate=vitals.respiratory_rate,
        moaas=vitals.moaas,
        idempotency_key=idempotency_key,
        recorded_by=acting_user,
    )
    reading.save(force_insert=True)
    raised = monitoring.vitals_alerts(_thresholds(protocol, phase), pure)
    now = timezone.now()
    alerts = [
        SessionAlert(
            session_id=target.session_id,
            vitals=reading,
            code=alert.code,
            field=alert.field.value,
            value=alert.value,
            comparator=alert.comparator.value,
            threshold=alert.threshold,
            recommended_action=alert.recommended_action.value,
            actions=",".join(a.value for a in alert.actions),
            message=alert.message,
            source=alert.source,
            raised_at=now,
        )
        for alert in raised
    ]
    if alerts:
        SessionAlert.objects.bulk_create(alerts)
    # Last, so that the clinic-wide chain lock is held for as short a time as possible.
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="VitalsReading",
        object_id=reading.pk,
        patient_id=target.patient_id,
    )
    return VitalsRecorded(
        reading=reading,
        alerts=alerts,
        created=True,
        hold=phase == SessionStatus.CHECKED_IN and bool(alerts),
    )


ACKNOWLEDGING = (*CHARTING, SessionStatus.DISCHARGED)
"""An alert may be acknowledged until the session is signed (signing needs every one)."""


@transaction.atomic
def alert_acknowledge(
    *, acting_user: Any, session: Session, alert_id: int, note: str = ""
) -> SessionAlert:
    """The nurse or clinician has seen the alert; when its actions stop or pause the infusion
    or call the prescriber, `note` says what was done (ValidationError, 422, without one)."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, ACKNOWLEDGING, "Acknowledging an alert")
    alert = SessionAlert.objects.get(session=locked, pk=alert_id)
    if alert.acknowledged_at is not None:
        return alert
    text = note.strip()
    if not text and alert.needs_note:
        raise ValidationError(
            {"note": ["Note what was done (the infusion stopped or paused, who was called)."]}
        )
    if len(text) > NOTE_MAX:
        raise ValidationError({"note": [f"At most {NOTE_MAX} characters."]})
    alert.acknowledged_by = acting_user
    alert.acknowledged_at = timezone.now()
    alert.acknowledgement_note = text
    alert.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
    _audit(acting_user, Action.UPDATE, "SessionAlert", alert.pk, locked)
    return alert
