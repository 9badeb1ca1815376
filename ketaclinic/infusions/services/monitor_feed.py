"""Vitals from a bedside monitor: charted into the session at once, through the same
plausibility checks and alert rules as typed vitals (`rules.monitoring`, the protocol's
thresholds by phase), counted as charted once a nurse confirms them (or automatically after
the protocol's `monitor_autoconfirm_minutes`, when the clinic sets one); a nurse may mark a
reading an artefact, with a reason (kept, not charted).

The monitor feed (`ketaclinic.monitors`) calls `vitals_record_from_monitor` inside its own
transaction, so that a message is acknowledged only after its readings are committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.courses.models import Course
from ketaclinic.infusions.models import (
    Session,
    SessionAlert,
    SessionStatus,
    VitalsReading,
    VitalsSource,
)
from ketaclinic.infusions.rules import monitoring
from ketaclinic.infusions.services.common import (
    CHARTING,
    _locked,
    _require_status,
    protocol_definition,
)
from ketaclinic.infusions.services.vitals import ACKNOWLEDGING, _thresholds
from ketaclinic.lib.bulk import array_mark, columns_insert, rows_planned_afresh
from ketaclinic.lib.text import text_checked, text_problem

ARTEFACT_REASON_MAX = 500
FUTURE_SLACK = timedelta(minutes=5)
"""As for typed vitals: a reading more than this in the future is refused."""
VITAL_FIELDS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate",
)


@dataclass(frozen=True)
class MonitorSet:
    """One set of values the monitor measured at `at` (any of the five fields)."""

    at: datetime
    values: Mapping[str, int]
    key: str
    """Unique per session for this measurement (device and message or cuff time): a resent
    message is charted once."""


@dataclass
class MonitorCharted:
    readings: list[int] = field(default_factory=list)
    """The ids of the vitals rows charted."""
    alerts: list[SessionAlert] = field(default_factory=list)
    duplicates: int = 0
    """Sets already charted (a resent message, the same cuff in a later message)."""
    dropped: list[str] = field(default_factory=list)
    """Values not charted, with the reason (implausible, in the future)."""


def _alert_rows(
    session_id: UUID, reading_id: int, raised: Sequence[monitoring.Alert], now: datetime
) -> list[SessionAlert]:
    return [
        SessionAlert(
            session_id=session_id,
            vitals_id=reading_id,
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


def _plausible(
    values: Mapping[str, int], limits: Any, dropped: list[str], at: datetime
) -> tuple[dict[str, int], monitoring.Vitals]:
    """The values that are plausible, as a dict and as the rules' `Vitals`; each one dropped
    is added to `dropped` with the reason."""
    kept = {name: values[name] for name in VITAL_FIELDS if name in values}
    pure = monitoring.Vitals(**kept)
    problems = monitoring.vitals_check_plausible(vitals=pure, limits=limits)
    if not problems:
        return kept, pure
    for problem in problems:
        names = [problem.field]
        if problem.field == "diastolic_mmhg" and "systolic" in problem.message:
            names.append("systolic_mmhg")  # the pair cannot be right: neither is charted
        for name in names:
            if name in kept:
                dropped.append(f"{at:%H:%M:%S} {name} {kept.pop(name)}: {problem.message}")
    return kept, monitoring.Vitals(**kept)


@dataclass(frozen=True)
class MonitorFeedIn:
    """One message's sets for one session (a batch of these is charted together)."""

    session_id: UUID
    device: str
    sets: Sequence[MonitorSet]


@dataclass(frozen=True)
class _Target:
    status: str
    patient_id: UUID
    protocol_id: int


def _locked_targets(session_ids: Sequence[UUID]) -> dict[UUID, _Target]:
    """The sessions' rows locked (in id order, so that two batches cannot deadlock), with
    their patient and protocol ids, in one query."""
    session, course = Session._meta, Course._meta
    ids = sorted(set(session_ids), key=str)
    # PostgreSQL: one array, so that the text is the same for any batch (cached, prepared).
    postgresql = connection.vendor == "postgresql"
    marks = f"= ANY({array_mark()})" if postgresql else "IN (" + ", ".join(["%s"] * len(ids)) + ")"
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT s.id, s.status, c.patient_id, c.protocol_id "  # noqa: S608 - our own names
        f"FROM {session.db_table} s JOIN {course.db_table} c ON c.id = s.course_id "
        f"WHERE s.id {marks} ORDER BY s.id{lock}"
    )
    values = [session.pk.get_db_prep_value(i, connection) for i in ids]
    params: list[Any] = [values] if postgresql else values
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found: dict[UUID, _Target] = {}
    for pk, status, patient_id, protocol_id in rows:
        key = pk if isinstance(pk, UUID) else UUID(str(pk))
        patient = patient_id if isinstance(patient_id, UUID) else UUID(str(patient_id))
        found[key] = _Target(str(status), patient, int(protocol_id))
    return found


_ROW_COLUMNS = (
    "session_id",
    "at",
    "phase",
    "idempotency_key",
    "source",
    "device",
    "recorded_at",
    *VITAL_FIELDS,
)


def _charted_keys(wanted: set[tuple[UUID, str]]) -> set[tuple[UUID, str]]:
    """Which of these (session, key) pairs are charted already: one query. On PostgreSQL each
    pair is looked up in the unique index of (session, key): the index is partial (keys not
    empty), so the query says so too, or the planner cannot use it and reads every row of the
    batch's sessions (181 us a message once sessions held ~100 rows: bench/README.md). Each
    pair is its own LIMIT 1 lookup (a join of the pairs with the table was planned as a hash
    join over the whole table while it was small), planned afresh every time
    (`rows_planned_afresh`): a kept generic plan made when the table held a few hundred rows
    read all of it as it grew to 25,000 in a burst, 88 us a message (issue 17)."""
    if not wanted:
        return set()
    if connection.vendor != "postgresql":
        return set(
            VitalsReading.objects.filter(
                session_id__in={sid for sid, _ in wanted},
                idempotency_key__in={key for _, key in wanted},
            ).values_list("session_id", "idempotency_key")
        )
    pairs = sorted(wanted, key=lambda pair: (str(pair[0]), pair[1]))
    mark = array_mark()
    # Only the model's own table name is put into the text; values are parameters.
    sql = (
        "SELECT w.session_id, w.idempotency_key "  # noqa: S608
        f"FROM unnest({mark}::uuid[], {mark}::text[]) AS w (session_id, idempotency_key) "
        f"CROSS JOIN LATERAL (SELECT 1 FROM {VitalsReading._meta.db_table} v "
        "WHERE v.session_id = w.session_id AND v.idempotency_key = w.idempotency_key "
        "AND v.idempotency_key <> '' LIMIT 1) AS charted"
    )
    rows = rows_planned_afresh(sql, [[sid for sid, _ in pairs], [key for _, key in pairs]])
    return {(sid, key) for sid, key in rows}


@transaction.atomic(savepoint=False)  # the caller's transaction rolls back whole on failure
def vitals_record_from_monitor_many(
    items: Sequence[MonitorFeedIn], *, audit_later: list[AuditTarget] | None = None
) -> list[MonitorCharted | str]:
    """Chart several messages' sets, each into its session, in one transaction with a fixed
    number of queries (the listener's batch): the sessions locked, the readings, their alerts
    (the protocol's thresholds for each session's phase, raised at once) and the audit events
    each inserted together. Per item: what was charted, or why the session refused (a str:
    it is not between check-in and discharge). Sets already charted (same key) are counted.

    With `audit_later`, the readings' audit targets are added to it instead of recorded: the
    caller records them (`audit_record_many`) before its transaction commits, as its last
    write, so that the audit chain's lock, which every audited write in the clinic waits
    for, is held only for that insert and the commit."""
    if not items:
        return []
    targets = _locked_targets([i.session_id for i in items])
    wanted = {(i.session_id, s.key[:100]) for i in items for s in i.sets}
    seen = _charted_keys(wanted)
    now = timezone.now()
    results: list[MonitorCharted | str] = []
    # The new rows as tuples in `_ROW_COLUMNS` order (`lib.bulk.columns_insert` takes them
    # column by column: no model instances), each with its item's index, its values for the
    # alert rules and the thresholds.
    rows: list[tuple[Any, ...]] = []
    pending: list[tuple[int, UUID, monitoring.Vitals, Any]] = []
    source = VitalsSource.MONITOR.value
    for index, item in enumerate(items):
        target = targets.get(item.session_id)
        if target is None or target.status not in CHARTING:
            status = target.status if target else "gone"
            results.append(
                f"the session is {status}: monitor readings are charted from check-in "
                "until discharge"
            )
            continue
        protocol = protocol_definition(target.protocol_id)
        thresholds = _thresholds(protocol, target.status)
        result = MonitorCharted()
        results.append(result)
        device = item.device[:100]
        for item_set in item.sets:
            key = item_set.key[:100]
            if (item.session_id, key) in seen:
                result.duplicates += 1
                continue
            seen.add((item.session_id, key))
            if item_set.at > now + FUTURE_SLACK:
                result.dropped.append(f"{item_set.at:%H:%M:%S}: in the future, not charted")
                continue
            kept, pure = _plausible(
                item_set.values, protocol.vitals_plausibility, result.dropped, item_set.at
            )
            if not kept:
                continue
            get = kept.get
            rows.append(
                (
                    item.session_id,
                    item_set.at,
                    target.status,
                    key,
                    source,
                    device,
                    now,
                    *[get(name) for name in VITAL_FIELDS],
                )
            )
            pending.append((index, item.session_id, pure, thresholds))
    if not pending:
        return results
    columns = dict(zip(_ROW_COLUMNS, zip(*rows, strict=True), strict=True))
    ids = columns_insert(VitalsReading, columns)
    alerts: list[SessionAlert] = []
    targets_audit: list[AuditTarget] = []
    for (index, session_id, pure, thresholds), pk in zip(pending, ids, strict=True):
        charted = results[index]
        assert isinstance(charted, MonitorCharted)
        raised = _alert_rows(session_id, pk, monitoring.vitals_alerts(thresholds, pure), now)
        charted.readings.append(pk)
        charted.alerts.extend(raised)
        alerts.extend(raised)
        patient = targets[session_id].patient_id
        targets_audit.append(AuditTarget("VitalsReading", str(pk), patient))
    if alerts:
        SessionAlert.objects.bulk_create(alerts)
    if audit_later is not None:
        audit_later.extend(targets_audit)
        return results
    # Last: the audit chain's head is locked from here until the commit.
    audit_record_many(actor=None, action=Action.CREATE, targets=targets_audit)
    return results


def vitals_record_from_monitor(
    *, session_id: UUID, device: str, sets: Sequence[MonitorSet]
) -> MonitorCharted:
    """Chart one message's sets into the session (see `vitals_record_from_monitor_many`);
    ValidationError when the session is not between check-in and discharge."""
    (result,) = vitals_record_from_monitor_many([MonitorFeedIn(session_id, device, sets)])
    if isinstance(result, str):
        raise ValidationError({"session": [result]})
    return result


def _awaiting(session: Session) -> Any:
    return VitalsReading.objects.filter(
        session=session,
        source=VitalsSource.MONITOR,
        confirmed_at__isnull=True,
        artefact=False,
    )


@transaction.atomic
def vitals_confirm_monitor(*, acting_user: Any, session: Session, up_to: int | None = None) -> int:
    """The nurse confirms the monitor's readings awaiting confirmation (those she was shown:
    up to reading id `up_to`), in one click. Returns how many."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, ACKNOWLEDGING, "Confirming monitor readings")
    rows = _awaiting(locked)
    if up_to is not None:
        rows = rows.filter(pk__lte=up_to)
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    VitalsReading.objects.filter(pk__in=ids).update(
        confirmed_by=acting_user, confirmed_at=timezone.now()
    )
    audit_record_many(
        actor=acting_user,
        action=Action.UPDATE,
        targets=[AuditTarget("VitalsReading", str(pk), locked.course.patient_id) for pk in ids],
    )
    return len(ids)


@transaction.atomic
def vitals_mark_artefact(
    *, acting_user: Any, session: Session, reading_id: int, reason: str
) -> VitalsReading:
    """A monitor reading the nurse judges an artefact (a cuff on a moving arm, a probe off):
    kept, with the reason, and not charted. Its alerts stay for acknowledgement."""
    require(acting_user, "session.chart")
    locked = _locked(session)
    _require_status(locked, ACKNOWLEDGING, "Marking an artefact")
    text = reason.strip()
    if not text:
        raise ValidationError({"reason": ["Say why the reading is an artefact."]})
    if len(text) > ARTEFACT_REASON_MAX:
        raise ValidationError({"reason": [f"At most {ARTEFACT_REASON_MAX} characters."]})
    problem = text_problem(text, "free")
    if problem:  # control, invisible-format and direction-override characters (issue 18 item 5)
        raise ValidationError({"reason": [problem]})
    text = text_checked(text, "free")
    reading = VitalsReading.objects.get(session=locked, pk=reading_id, source=VitalsSource.MONITOR)
    if reading.artefact:
        return reading
    reading.artefact = True
    reading.artefact_reason = text
    reading.artefact_by = acting_user
    reading.artefact_at = timezone.now()
    reading.save(update_fields=["artefact", "artefact_reason", "artefact_by", "artefact_at"])
    audit_record_many(
        actor=acting_user,
        action=Action.UPDATE,
        targets=[AuditTarget("VitalsReading", str(reading.pk), locked.course.patient_id)],
    )
    return reading


def vitals_autoconfirm_due(*, now: datetime | None = None) -> int:
    """Confirm, without a nurse, the monitor readings older than their protocol's
    `monitor_autoconfirm_minutes` (protocols without one never auto-confirm). Run by the
    listener every minute. Returns how many."""
    moment = now or timezone.now()
    sessions = (
        Session.objects.filter(
            status__in=[*CHARTING, SessionStatus.DISCHARGED],
            vitals__source=VitalsSource.MONITOR,
            vitals__confirmed_at__isnull=True,
            vitals__artefact=False,
        )
        .select_related("course")
        .distinct()
    )
    total = 0
    for session in sessions:
        protocol = protocol_definition(session.course.protocol_id)
        minutes = protocol.monitoring.monitor_autoconfirm_minutes
        if minutes is None:
            continue
        with transaction.atomic():
            locked = _locked(session)
            rows = _awaiting(locked).filter(
                recorded_at__lte=moment - timedelta(minutes=minutes.value)
            )
            ids = list(rows.values_list("pk", flat=True))
            if not ids:
                continue
            VitalsReading.objects.filter(pk__in=ids).update(confirmed_at=moment)
            audit_record_many(
                actor=None,
                action=Action.UPDATE,
                targets=[
                    AuditTarget("VitalsReading", str(pk), locked.course.patient_id) for pk in ids
                ],
            )
            total += len(ids)
    return total


def monitor_awaiting_problems(session: Session) -> list[str]:
    """For signing: monitor readings nobody has confirmed nor marked an artefact."""
    count = _awaiting(session).count()
    if not count:
        return []
    return [
        f"{count} reading(s) from the monitor are not confirmed: confirm them, or mark "
        "artefacts, before signing."
    ]
