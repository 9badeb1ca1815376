"""The infusion: what stands before its start, the start, rate changes and pauses, and the stop
with its administration recorded in the ketamine ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionStatus,
    VitalsReading,
)
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.infusions.rules import monitoring
from ketaclinic.infusions.services.check_in import prechecks_problems
from ketaclinic.infusions.services.common import (
    ChartRefused,
    _audit,
    _entry,
    _latest_entry,
    _locked,
    _require_status,
    _set_status,
    entry_data,
    session_protocol,
)
from ketaclinic.infusions.services.draws import (
    dose_draw_problems,
    draw_exception,
    session_draws_list,
)
from ketaclinic.infusions.services.vitals import _pure_vitals


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


@dataclass(frozen=True)
class PredoseHoldState:
    """The latest baseline vital signs (None before any), whether they hold the dose for a
    clinician's review under the protocol's pre-dose thresholds, and whether a clinician has
    reviewed since they were recorded."""

    baseline: VitalsReading | None
    decision: monitoring.PredoseDecision | None
    reviewed: bool

    @property
    def hold(self) -> bool:
        return self.decision is not None and self.decision.hold

    @property
    def open(self) -> bool:
        """The dose is held and no clinician has reviewed this baseline yet."""
        return self.hold and not self.reviewed


def _baseline_vitals(rows: list[VitalsReading]) -> monitoring.Vitals:
    """The baseline: the latest reading's values, a value it lacks taken from the latest
    earlier pre-dose reading that has it. A monitor's periodic set (heart rate, SpO2, RR) and
    its cuff (at its own time) are separate rows: together they are a baseline, as typed
    vitals are (issue 17: a baseline from the monitor is a baseline)."""
    latest = _pure_vitals(rows[0])
    if rows[0].source == "nurse":
        return latest
    values: dict[str, int | None] = {}
    for name in (
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "respiratory_rate",
        "moaas",
    ):
        values[name] = next((getattr(r, name) for r in rows if getattr(r, name) is not None), None)
    return monitoring.Vitals(**values)


def predose_hold_state(session: Session, *, protocol: ProtocolDefinition) -> PredoseHoldState:
    rows = list(
        VitalsReading.objects.filter(
            session=session, phase=SessionStatus.CHECKED_IN, artefact=False
        ).order_by("-at", "-pk")[:20]
    )
    if not rows:
        return PredoseHoldState(baseline=None, decision=None, reviewed=False)
    baseline = rows[0]
    decision = monitoring.predose_hold(protocol=protocol, vitals=_baseline_vitals(rows))
    review = _latest_entry(session, ChartEntryKind.CLINICIAN_REVIEW) if decision.hold else None
    reviewed = review is not None and review.recorded_at >= baseline.recorded_at
    return PredoseHoldState(baseline=baseline, decision=decision, reviewed=reviewed)


def start_problems(session: Session, *, at: datetime) -> list[str]:
    """Everything that stands between a checked-in session and the start of its infusion."""
    from ketaclinic.courses.selectors import prescriber_on_site

    protocol = session_protocol(session)
    prechecks = _latest_entry(session, ChartEntryKind.PRECHECKS)
    problems = prechecks_problems(
        entry_data(prechecks) if prechecks else None, protocol=protocol, at=at
    )
    problems += questionnaire_problems(session, at=at)
    hold = predose_hold_state(session, protocol=protocol)
    if hold.baseline is None:
        problems.append("No baseline vital signs have been recorded.")
    elif hold.open and hold.decision is not None:
        names = ", ".join(a.message for a in hold.decision.alerts) or "values missing"
        problems.append(f"Pre-dose hold, a clinician must review first: {names}")
    dose = DoseCheck.objects.filter(session=session).order_by("-calculated_at", "-pk").first()
    if dose is None:
        problems.append("No dose has been calculated.")
    else:
        if dose.second_checked_by_id is None:
            problems.append("The dose calculation has not been second-checked.")
        problems += dose_draw_problems(session, dose)
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
    data: dict[str, Any] = {"dose_check": dose.pk, "rate_ml_per_h": dose.rate_ml_per_h}
    exception = draw_exception(locked)
    if exception is not None:
        data["draw_exception"] = exception.pk
    else:
        data["draws"] = [
            {"container": d.container_id, "ml": _plain(d.drawn_ml), "mg": _plain(d.drawn_mg)}
            for d in session_draws_list(locked)
        ]
    _entry(locked, user=acting_user, kind=ChartEntryKind.INFUSION_START, at=now, data=data)
    _set_status(locked, SessionStatus.INFUSING)
    _audit(acting_user, Action.UPDATE, "Session", locked.pk, locked)
    return locked


def _plain(value: Decimal) -> str:
    # As typed: a database hands back 3.6300 for 3.63.
    return format(value.normalize(), "f")


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
