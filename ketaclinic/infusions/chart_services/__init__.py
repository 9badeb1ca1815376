"""Writes to the session chart. Each runs in one transaction with its audit event, on the
session row locked first, and refuses (`ChartRefused`, HTTP 409) what the clinic's rules refuse;
a signed session refuses every write (`SessionFrozen`, also 409) except addenda.

The clinical rules themselves are the pure functions of `dosing` and `monitoring`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from ketaclinic.accounts.access import require, user_can, user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import Course, Protocol
from ketaclinic.infusions import dosing, monitoring
from ketaclinic.infusions.chart_models import (
    Addendum,
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    SessionAlert,
    SessionSignature,
    SignedRecord,
    VitalsReading,
)
from ketaclinic.infusions.chart_snapshot import session_snapshot
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.lib.hashchain import canonical_json, digest

CHECK_IN_EARLIEST = timedelta(hours=2)
"""Check-in opens this long before the booked start (a clinician may check in at any time)."""

CHARTING = (SessionStatus.CHECKED_IN, SessionStatus.INFUSING, SessionStatus.RECOVERY)
"""Vitals, side effects and assessments are accepted from check-in until discharge."""

BEFORE_START = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")


class ChartRefused(Exception):
    """Well formed, but the chart's rules refuse it (HTTP 409), with every reason."""

    def __init__(self, reasons: Iterable[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


class SessionFrozen(ChartRefused):
    """The session is signed: the record is frozen; only addenda may be added."""

    def __init__(self) -> None:
        super().__init__(["The session is signed: its record is frozen; add an addendum."])


_definitions: dict[int, ProtocolDefinition] = {}


def session_protocol(session: Session) -> ProtocolDefinition:
    """The typed protocol of the session's course. Protocol rows never change (an edit is a new
    version), so each is read and parsed once per process."""
    return protocol_definition(session.course.protocol_id)


def protocol_definition(protocol_id: int) -> ProtocolDefinition:
    """The typed protocol of this id, read and parsed once per process (see `session_protocol`)."""
    found = _definitions.get(protocol_id)
    if found is None:
        found = Protocol.objects.get(pk=protocol_id).definition()
        _definitions[protocol_id] = found
    return found


def _locked(session: Session | UUID) -> Session:
    """The session row, locked for this transaction, with its course (for the patient and the
    protocol ids); the protocol itself comes from `session_protocol`'s cache."""
    pk = session if isinstance(session, UUID) else session.pk
    return Session.objects.select_for_update(of=("self",)).select_related("course").get(pk=pk)


def _require_status(session: Session, allowed: Iterable[str], what: str) -> None:
    _require_status_of(str(session.status), allowed, what)


def _require_status_of(status: str, allowed: Iterable[str], what: str) -> None:
    if status == SessionStatus.SIGNED:
        raise SessionFrozen
    allowed = tuple(allowed)
    if status not in allowed:
        wanted = " or ".join(str(SessionStatus(s).label).lower() for s in allowed)
        raise ChartRefused(
            [f"{what} needs the session to be {wanted}; it is {SessionStatus(status).label}."]
        )


def _aware(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError({name: ["Must include a UTC offset."]})
    return moment


def _audit(
    user: Any, action: Action, object_type: str, object_id: object, session: Session
) -> None:
    audit_record(
        actor=user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=session.course.patient_id,
    )


def _entry(
    session: Session,
    *,
    user: Any,
    kind: ChartEntryKind,
    at: datetime | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> ChartEntry:
    entry = ChartEntry.objects.create(
        session=session,
        kind=kind,
        at=at or timezone.now(),
        reason=reason.strip(),
        data_json=canonical_json(data or {}),
        recorded_by=user,
    )
    _audit(user, Action.CREATE, "ChartEntry", entry.pk, session)
    return entry


def _set_status(session: Session, status: SessionStatus) -> None:
    session.status = status
    session.save(update_fields=["status"])


def entry_data(entry: ChartEntry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(entry.data_json)
    return data


# -- check-in and pre-checks --------------------------------------------------------------------


@transaction.atomic
def session_check_in(*, acting_user: Any, session: Session) -> Session:
    """From 2 hours before the booked start; a clinician may check in at any time."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.SCHEDULED], "Check-in")
    now = timezone.now()
    if now < locked.start - CHECK_IN_EARLIEST and user_role(acting_user) != Role.CLINICIAN:
        opens = timezone.localtime(locked.start - CHECK_IN_EARLIEST)
        raise ChartRefused(
            [f"Check-in opens 2 hours before the booked start, at {opens:%Y-%m-%d %H:%M}."]
        )
    _entry(locked, user=acting_user, kind=ChartEntryKind.CHECK_IN, at=now)
    _set_status(locked, SessionStatus.CHECKED_IN)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    return locked


@dataclass(frozen=True)
class PreChecks:
    identity_confirmed: bool
    consent_current: bool
    fasting: bool
    escort_confirmed: bool
    pregnancy_test: str
    """negative, positive or not_applicable."""
    questionnaires_done: bool
    weight_kg: Decimal
    weight_measured_at: datetime


def prechecks_problems(
    checks: dict[str, Any] | None, *, protocol: ProtocolDefinition, at: datetime
) -> list[str]:
    """What stands between the recorded pre-checks and the start (empty: all done)."""
    if checks is None:
        return ["The pre-checks have not been recorded."]
    problems: list[str] = []
    labels = {
        "identity_confirmed": "identity not confirmed",
        "consent_current": "consent not current",
        "fasting": "fasting not confirmed",
        "escort_confirmed": "escort not confirmed",
        "questionnaires_done": "pre-dose questionnaires not done",
    }
    for key, label in labels.items():
        if checks.get(key) is not True:
            problems.append(f"Pre-check: {label}.")
    pregnancy = checks.get("pregnancy_test")
    if pregnancy == "positive":
        problems.append("Pre-check: pregnancy test positive.")
    elif pregnancy not in ("negative", "not_applicable"):
        problems.append("Pre-check: pregnancy test not recorded.")
    measured = datetime.fromisoformat(str(checks.get("weight_measured_at")))
    if measured > at or not dosing.weight_is_current(
        measured_at=measured, at=at, protocol=protocol
    ):
        problems.append(
            f"Pre-check: weight must be measured within {protocol.weight_valid_days.value} days."
        )
    return problems


@transaction.atomic
def prechecks_record(*, acting_user: Any, session: Session, checks: PreChecks) -> ChartEntry:
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.CHECKED_IN], "Pre-checks")
    if checks.pregnancy_test not in PREGNANCY_RESULTS:
        raise ValidationError({"pregnancy_test": ["Must be negative, positive or not_applicable."]})
    _aware("weight_measured_at", checks.weight_measured_at)
    if checks.weight_measured_at > timezone.now():
        raise ValidationError({"weight_measured_at": ["Must not be in the future."]})
    data = {
        "identity_confirmed": checks.identity_confirmed,
        "consent_current": checks.consent_current,
        "fasting": checks.fasting,
        "escort_confirmed": checks.escort_confirmed,
        "pregnancy_test": checks.pregnancy_test,
        "questionnaires_done": checks.questionnaires_done,
        "weight_kg": checks.weight_kg,
        "weight_measured_at": checks.weight_measured_at.isoformat(),
    }
    return _entry(locked, user=acting_user, kind=ChartEntryKind.PRECHECKS, data=data)


@transaction.atomic
def clinician_review_record(*, acting_user: Any, session: Session, reason: str) -> ChartEntry:
    """A clinician has reviewed a pre-dose hold (e.g. BP at or above 140/90) and allows start."""
    require(acting_user, "session.override")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.CHECKED_IN], "A pre-dose review")
    if not reason.strip():
        raise ValidationError({"reason": ["A review needs a reason."]})
    return _entry(locked, user=acting_user, kind=ChartEntryKind.CLINICIAN_REVIEW, reason=reason)


# -- dose and second check ----------------------------------------------------------------------


def _latest_dose_order_amount(session: Session, protocol: ProtocolDefinition) -> Decimal | None:
    from ketaclinic.courses.models import DoseOrder

    order = DoseOrder.objects.filter(course_id=session.course_id).order_by("-ordered_at").first()
    if order is None:
        return None
    return order.mg_per_kg if order.mg_per_kg is not None else order.fixed_mg


@transaction.atomic
def dose_calculate_record(
    *,
    acting_user: Any,
    session: Session,
    weight_kg: Decimal | None,
    concentration_mg_per_ml: Decimal | None,
    bag_volume_ml: Decimal | None = None,
    override_reason: str = "",
) -> DoseCheck:
    """Calculate the dose any time before the start. Above the protocol maximum it is refused
    unless a clinician gives an override reason."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, BEFORE_START, "A dose calculation")
    protocol = session_protocol(locked)
    reason = override_reason.strip()
    if reason and not user_can(acting_user, "session.override"):
        raise PermissionDenied("only a clinician may override the dose maximum")
    try:
        calc = dosing.dose_calculate(
            protocol_or_params=protocol,
            weight_kg=weight_kg,
            concentration_mg_per_ml=concentration_mg_per_ml,
            bag_volume_ml=bag_volume_ml,
            amount=_latest_dose_order_amount(locked, protocol),
            override_reason=reason or None,
        )
    except dosing.DoseAboveMaximum as exc:
        raise ChartRefused([str(exc)]) from None
    except dosing.DoseInputError as exc:
        field, _, message = str(exc).partition(": ")
        raise ValidationError({field if message else "body": [message or str(exc)]}) from None
    dose = DoseCheck.objects.create(
        session=locked,
        amount=calc.amount,
        weight_kg=calc.weight_kg,
        concentration_mg_per_ml=calc.concentration_mg_per_ml,
        bag_volume_ml=calc.bag_volume_ml,
        dose_mg=calc.dose_mg,
        drug_volume_ml=calc.drug_volume_ml,
        devices=calc.devices,
        infusion_minutes=calc.infusion_minutes,
        rate_ml_per_h=calc.rate_ml_per_h,
        max_single_dose_mg=calc.max_single_dose_mg,
        above_maximum=calc.above_maximum,
        override_reason=calc.override_reason or "",
        working="\n".join(calc.working),
        calculated_by=acting_user,
    )
    _audit(acting_user, Action.CREATE, "DoseCheck", dose.pk, locked)
    return dose


def _witness(request: HttpRequest | None, username: str, password: str, totp: str) -> Any:
    """The second checker, by their own credentials (and TOTP when they have a device)."""
    from django_otp import devices_for_user

    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ValidationError({"password": ["The second checker's username or password is wrong."]})
    devices = list(devices_for_user(user, confirmed=True))
    if devices or getattr(user, "two_factor_required", False):
        token = totp.strip()
        if not token or not any(device.verify_token(token) for device in devices):
            raise ValidationError({"totp": ["The second checker's TOTP code is wrong."]})
    return user


@transaction.atomic
def dose_second_check(
    *,
    acting_user: Any,
    session: Session,
    username: str,
    password: str,
    totp: str = "",
    request: HttpRequest | None = None,
) -> DoseCheck:
    """A second staff member confirms the latest calculation with their own credentials."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, BEFORE_START, "A second check")
    dose = DoseCheck.objects.filter(session=locked).order_by("-calculated_at", "-pk").first()
    if dose is None:
        raise ChartRefused(["No dose has been calculated for this session."])
    witness = _witness(request, username, password, totp)
    reasons = []
    if witness.pk == dose.calculated_by_id:
        reasons.append("The second check must be made by someone other than the calculator.")
    if not user_can(witness, "session.chart"):
        reasons.append("The second checker must be a nurse or a clinician.")
    if reasons:
        raise ChartRefused(reasons)
    dose.second_checked_by = witness
    dose.second_checked_at = timezone.now()
    dose.save(update_fields=["second_checked_by", "second_checked_at"])
    _audit(witness, Action.UPDATE, "DoseCheck", dose.pk, locked)
    return dose


# -- the infusion ---------------------------------------------------------------------------------


def _latest_entry(session: Session, kind: ChartEntryKind) -> ChartEntry | None:
    return ChartEntry.objects.filter(session=session, kind=kind).order_by("-at", "-pk").first()


def questionnaire_problems(session: Session, *, at: datetime) -> list[str]:
    """The pre-dose questionnaires the patient's schedules (scales) ask for before this
    infusion and that are not answered yet: the nurse's tick does not stand in for them."""
    from ketaclinic.scales import instruments
    from ketaclinic.scales.schedules import pre_infusion_outstanding
    from ketaclinic.scales.services import short_name

    outstanding = pre_infusion_outstanding(
        session.course.patient_id, infusion_at=at, current_phase=session.phase
    )
    if not outstanding:
        return []
    names = ", ".join(short_name(instruments.get(code)) for code in outstanding)
    return [f"Pre-dose questionnaires due before this infusion are not answered: {names}."]


def start_problems(session: Session, *, at: datetime) -> list[str]:
    """Everything that stands between a checked-in session and the start of its infusion."""
    from ketaclinic.courses.selectors import prescriber_on_site

    protocol = session_protocol(session)
    prechecks = _latest_entry(session, ChartEntryKind.PRECHECKS)
    problems = prechecks_problems(
        entry_data(prechecks) if prechecks else None, protocol=protocol, at=at
    )
    problems += questionnaire_problems(session, at=at)
    baseline = (
        VitalsReading.objects.filter(session=session, phase=SessionStatus.CHECKED_IN)
        .order_by("-at", "-pk")
        .first()
    )
    if baseline is None:
        problems.append("No baseline vital signs have been recorded.")
    else:
        hold = monitoring.predose_hold(protocol=protocol, vitals=_pure_vitals(baseline))
        if hold.hold:
            review = _latest_entry(session, ChartEntryKind.CLINICIAN_REVIEW)
            if review is None or review.recorded_at < baseline.recorded_at:
                names = ", ".join(a.message for a in hold.alerts) or "values missing"
                problems.append(f"Pre-dose hold, a clinician must review first: {names}")
    dose = DoseCheck.objects.filter(session=session).order_by("-calculated_at", "-pk").first()
    if dose is None:
        problems.append("No dose has been calculated.")
    elif dose.second_checked_by_id is None:
        problems.append("The dose calculation has not been second-checked.")
    if not prescriber_on_site(at):
        problems.append("No prescriber is on site.")
    return problems


@transaction.atomic
def infusion_start(*, acting_user: Any, session: Session) -> Session:
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.CHECKED_IN], "Starting the infusion")
    now = timezone.now()
    problems = start_problems(locked, at=now)
    if problems:
        raise ChartRefused(problems)
    dose = DoseCheck.objects.filter(session=locked).order_by("-calculated_at", "-pk").first()
    assert dose is not None  # start_problems refuses a session without one
    _entry(
        locked,
        user=acting_user,
        kind=ChartEntryKind.INFUSION_START,
        at=now,
        data={"dose_check": dose.pk, "rate_ml_per_h": dose.rate_ml_per_h},
    )
    _set_status(locked, SessionStatus.INFUSING)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    return locked


INFUSION_ACTIONS = {
    "rate_change": ChartEntryKind.RATE_CHANGE,
    "pause": ChartEntryKind.PAUSE,
    "resume": ChartEntryKind.RESUME,
}


def infusion_paused(session: Session) -> bool:
    last = (
        ChartEntry.objects.filter(
            session=session, kind__in=[ChartEntryKind.PAUSE, ChartEntryKind.RESUME]
        )
        .order_by("-at", "-pk")
        .first()
    )
    return last is not None and last.kind == ChartEntryKind.PAUSE


@transaction.atomic
def infusion_event_record(
    *,
    acting_user: Any,
    session: Session,
    action: str,
    reason: str,
    rate_ml_per_h: Decimal | None = None,
) -> ChartEntry:
    """A rate change, pause or resume during the infusion, each with its reason."""
    require(acting_user, "session.chart")
    kind = INFUSION_ACTIONS.get(action)
    if kind is None:
        raise ValidationError({"action": ["Must be rate_change, pause or resume."]})
    if not reason.strip():
        raise ValidationError({"reason": ["Give a reason."]})
    if kind == ChartEntryKind.RATE_CHANGE and (rate_ml_per_h is None or rate_ml_per_h < 0):
        raise ValidationError({"rate_ml_per_h": ["A rate change needs the new rate (mL/h)."]})
    locked = _locked(session)
    _require_status(locked, [SessionStatus.INFUSING], "Changing the infusion")
    paused = infusion_paused(locked)
    if kind == ChartEntryKind.PAUSE and paused:
        raise ChartRefused(["The infusion is already paused."])
    if kind == ChartEntryKind.RESUME and not paused:
        raise ChartRefused(["The infusion is not paused."])
    data = {"rate_ml_per_h": rate_ml_per_h} if kind == ChartEntryKind.RATE_CHANGE else {}
    return _entry(locked, user=acting_user, kind=kind, reason=reason, data=data)


@transaction.atomic
def infusion_stop(
    *,
    acting_user: Any,
    session: Session,
    administered_volume_ml: Decimal | None,
    reason: str = "",
) -> Session:
    """Stop the infusion; the nurse confirms the volume actually given and the chart records
    administered_mg = volume x concentration (for a nasal dose: the devices' mg)."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.INFUSING], "Stopping the infusion")
    dose = DoseCheck.objects.filter(session=locked).order_by("-calculated_at", "-pk").first()
    assert dose is not None  # an infusing session was started with a checked dose
    if dose.concentration_mg_per_ml is not None:
        if administered_volume_ml is None or administered_volume_ml < 0:
            raise ValidationError(
                {"administered_volume_ml": ["Confirm the drug volume actually given (mL)."]}
            )
        if dose.drug_volume_ml is not None and administered_volume_ml > dose.drug_volume_ml:
            raise ValidationError(
                {
                    "administered_volume_ml": [
                        f"More than the {dose.drug_volume_ml} mL drawn up for this dose."
                    ]
                }
            )
        locked.administered_volume_ml = administered_volume_ml
        locked.administered_mg = administered_volume_ml * dose.concentration_mg_per_ml
    else:
        locked.administered_volume_ml = None
        locked.administered_mg = dose.dose_mg
    locked.save(update_fields=["administered_volume_ml", "administered_mg"])
    _entry(
        locked,
        user=acting_user,
        kind=ChartEntryKind.INFUSION_STOP,
        reason=reason or "completed",
        data={
            "administered_volume_ml": locked.administered_volume_ml,
            "administered_mg": locked.administered_mg,
        },
    )
    _set_status(locked, SessionStatus.RECOVERY)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    _ledger_administration(acting_user, locked)
    return locked


def _ledger_administration(acting_user: Any, session: Session) -> None:
    """Record the administered dose against the session's draws in the ketamine ledger, in this
    transaction. The ledger never refuses it (signing checks what is left over)."""
    try:
        from ketaclinic.ledger.services import ledger_administration_record
    except ImportError:
        return  # no ledger app: nothing to record
    ledger_administration_record(acting_user=acting_user, session=session)


# -- vitals and alerts ----------------------------------------------------------------------------


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
        return replay


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
        return _replay_of(VitalsReading.objects.get(pk=target.replay_id))
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


@transaction.atomic
def alert_acknowledge(*, acting_user: Any, session: Session, alert_id: int) -> SessionAlert:
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, CHARTING, "Acknowledging an alert")
    alert = SessionAlert.objects.get(session=locked, pk=alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_by = acting_user
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
        _audit(acting_user, Action.UPDATE, "SessionAlert", alert.pk, locked)
    return alert


# -- side effects and assessments ---------------------------------------------------------------

SIDE_EFFECTS = (
    "nausea",
    "vomiting",
    "headache",
    "dizziness",
    "anxiety",
    "hypertension",
    "emergence_reaction",
    "other",
)
SEVERITIES = ("mild", "moderate", "severe")
ASSESSMENT_RANGES = {
    "cadss": (0, 92),  # Clinician-Administered Dissociative States Scale, 23 items 0-4
    "dissociation_0_4": (0, 4),  # a simple 0 (none) to 4 (extreme) rating
    "moaas": (0, 5),  # Modified Observer's Assessment of Alertness/Sedation
}


@transaction.atomic
def side_effect_record(
    *,
    acting_user: Any,
    session: Session,
    at: datetime,
    effect: str,
    severity: str,
    intervention: str = "",
    drug: str = "",
    drug_dose: str = "",
    note: str = "",
) -> ChartEntry:
    require(acting_user, "session.chart")
    problems: dict[str, list[str]] = {}
    if effect not in SIDE_EFFECTS:
        problems["effect"] = [f"Must be one of {', '.join(SIDE_EFFECTS)}."]
    if severity not in SEVERITIES:
        problems["severity"] = [f"Must be one of {', '.join(SEVERITIES)}."]
    if drug.strip() and not drug_dose.strip():
        problems["drug_dose"] = ["A drug given needs its dose."]
    if problems:
        raise ValidationError(problems)
    _aware("at", at)
    locked = _locked(session)
    _require_status(locked, CHARTING, "A side effect")
    data = {
        "effect": effect,
        "severity": severity,
        "intervention": intervention.strip(),
        "drug": drug.strip(),
        "drug_dose": drug_dose.strip(),
        "note": note.strip(),
    }
    return _entry(locked, user=acting_user, kind=ChartEntryKind.SIDE_EFFECT, at=at, data=data)


@transaction.atomic
def assessment_record(
    *, acting_user: Any, session: Session, at: datetime, instrument: str, score: int
) -> ChartEntry:
    """Dissociation (CADSS or a 0-4 rating) or sedation (MOAA/S) at the protocol's times."""
    require(acting_user, "session.chart")
    limits = ASSESSMENT_RANGES.get(instrument)
    if limits is None:
        raise ValidationError({"instrument": [f"Must be one of {', '.join(ASSESSMENT_RANGES)}."]})
    if not limits[0] <= score <= limits[1]:
        raise ValidationError({"score": [f"Must be between {limits[0]} and {limits[1]}."]})
    _aware("at", at)
    locked = _locked(session)
    _require_status(locked, CHARTING, "An assessment")
    data = {"instrument": instrument, "score": score}
    return _entry(locked, user=acting_user, kind=ChartEntryKind.ASSESSMENT, at=at, data=data)


# -- discharge, signing, addenda ------------------------------------------------------------------


@transaction.atomic
def session_discharge(
    *,
    acting_user: Any,
    session: Session,
    aldrete: int,
    escort_present: bool,
    instructions_given: bool,
    override_reason: str = "",
) -> Session:
    """Refused before the minimum observation time, with a modified Aldrete below the gate or
    without an escort, unless a clinician overrides with a reason."""
    require(acting_user, "session.chart")
    reason = override_reason.strip()
    if reason and not user_can(acting_user, "session.override"):
        raise PermissionDenied("only a clinician may override the discharge gates")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.RECOVERY], "Discharge")
    protocol = session_protocol(locked)
    stop = _latest_entry(locked, ChartEntryKind.INFUSION_STOP)
    assert stop is not None  # recovery begins when the infusion stops
    now = timezone.now()
    minutes = max(0, int((now - stop.at).total_seconds() // 60))
    try:
        decision = monitoring.discharge_check(
            minutes_since_infusion_end=minutes,
            aldrete_total=aldrete,
            escort_present=escort_present,
            protocol=protocol,
            override_reason=reason or None,
        )
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise ValidationError({field: [message or str(exc)]}) from None
    if not instructions_given:
        raise ChartRefused(["Discharge instructions have not been given."])
    if not decision.allowed:
        raise ChartRefused([r.message for r in decision.reasons])
    _entry(
        locked,
        user=acting_user,
        kind=ChartEntryKind.DISCHARGE,
        at=now,
        reason=decision.override_reason or "",
        data={
            "aldrete": aldrete,
            "escort_present": escort_present,
            "instructions_given": instructions_given,
            "minutes_observed": minutes,
            "overridden": decision.overridden,
            "unmet": [r.code for r in decision.reasons],
        },
    )
    _set_status(locked, SessionStatus.DISCHARGED)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    return locked


def _ledger_problems(session: Session) -> list[str]:
    try:
        from ketaclinic.ledger.selectors import session_ledger_problems
    except ImportError:
        # The ledger is optional until its app ships the selector: no ledger, no problems.
        return []
    return session_ledger_problems(session)


@transaction.atomic
def session_sign(*, acting_user: Any, session: Session) -> Session:
    """The nurse and the clinician each sign; with both, the record is frozen (canonical
    snapshot plus SHA-256) and the session is signed."""
    require(acting_user, "session.sign")
    locked = _locked(session)
    _require_status(locked, [SessionStatus.DISCHARGED], "Signing")
    role = user_role(acting_user)
    assert role in (Role.NURSE, Role.CLINICIAN)  # session.sign is held by these two only
    problems = _ledger_problems(locked)
    if problems:
        raise ChartRefused(problems)
    if SessionSignature.objects.filter(session=locked, role=role).exists():
        raise ChartRefused([f"The session already has a {role.label.lower()}'s signature."])
    signature = SessionSignature.objects.create(session=locked, role=role, signed_by=acting_user)
    _audit(acting_user, Action.CREATE, "SessionSignature", signature.pk, locked)
    roles = set(SessionSignature.objects.filter(session=locked).values_list("role", flat=True))
    if roles >= {Role.NURSE.value, Role.CLINICIAN.value}:
        snapshot = session_snapshot(locked)
        record = SignedRecord.objects.create(
            session=locked, snapshot_json=canonical_json(snapshot), sha256=digest(snapshot)
        )
        _set_status(locked, SessionStatus.SIGNED)
        _audit(acting_user, Action.UPDATE, "SignedRecord", record.pk, locked)
    return locked


@transaction.atomic
def addendum_add(*, acting_user: Any, session: Session, text: str) -> Addendum:
    """A later note beside the signed record; the record itself stays as signed."""
    require(acting_user, "session.chart")
    if not text.strip():
        raise ValidationError({"text": ["An addendum needs text."]})
    locked = _locked(session)
    record = SignedRecord.objects.filter(session=locked).first()
    if locked.status != SessionStatus.SIGNED or record is None:
        raise ChartRefused(["Addenda are for signed sessions; chart the change directly."])
    addendum = Addendum.objects.create(
        session=locked, text=text.strip(), record_sha256=record.sha256, author=acting_user
    )
    _audit(acting_user, Action.CREATE, "Addendum", addendum.pk, locked)
    return addendum


def signed_record_verify(session: Session) -> bool:
    """Whether the stored snapshot still matches its digest and today's rows."""
    record = SignedRecord.objects.filter(session=session).first()
    if record is None:
        return False
    stored = json.loads(record.snapshot_json)
    return digest(stored) == record.sha256 == digest(session_snapshot(session))
