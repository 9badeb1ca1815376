"""Vital signs during a session: plausibility, alerts, the pre-dose hold and the discharge gate.

Pure functions over protocol data, no Django. Every threshold, action and source comes from the
protocol; this module only compares. Vital signs are whole numbers (mmHg, /min, %, MOAA/S 0-5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ketaclinic.infusions.protocols import (
    Action,
    Comparator,
    Protocol,
    Range,
    Threshold,
    VitalField,
)


@dataclass(frozen=True)
class Vitals:
    """One set of observations; None for what was not measured."""

    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_percent: int | None = None
    respiratory_rate: int | None = None
    moaas: int | None = None

    def value_of(self, field: VitalField) -> int | None:
        # A VitalField is a str (StrEnum) equal to its value: the attribute's name as it is,
        # without the enum's `.value` property (its cost counted in the monitor burst).
        value: int | None = getattr(self, field)
        return value


_FIELDS = tuple((field, str(field.value)) for field in VitalField)
"""Each vital field with its name, in field order (the enum iterated once, not per call)."""
_PRESSURES = frozenset({"systolic_mmhg", "diastolic_mmhg"})


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


@dataclass(frozen=True)
class Alert:
    code: str
    field: VitalField
    value: int
    threshold: int
    comparator: Comparator
    recommended_action: Action
    """The first, most important action."""
    actions: tuple[Action, ...]
    message: str
    source: str


@dataclass(frozen=True)
class PredoseDecision:
    hold: bool
    """True when any hold threshold is met or a value it needs was not measured."""
    alerts: tuple[Alert, ...]
    missing: tuple[VitalField, ...]


@dataclass(frozen=True)
class DischargeReason:
    code: str
    message: str


@dataclass(frozen=True)
class DischargeDecision:
    allowed: bool
    reasons: tuple[DischargeReason, ...]
    """Every gate not met, also when a clinician override allows discharge."""
    overridden: bool
    override_reason: str | None


def vitals_check_plausible(
    *, vitals: Vitals, limits: Mapping[VitalField, Range]
) -> list[FieldProblem]:
    """Field problems for values that cannot be right (typing errors), in field order.

    `limits` is a protocol's `vitals_plausibility`: data entry limits, not clinical ones.
    """
    problems: list[FieldProblem] = []
    for field, name in _FIELDS:
        value = getattr(vitals, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(FieldProblem(name, "must be a whole number"))
            continue
        limit = limits.get(field)
        if limit is not None and not limit.contains(value):
            problems.append(
                FieldProblem(
                    name,
                    f"{value} is outside the plausible range {limit.low}-{limit.high}; "
                    "check the reading",
                )
            )
    systolic, diastolic = vitals.systolic_mmhg, vitals.diastolic_mmhg
    if (
        isinstance(systolic, int)
        and isinstance(diastolic, int)
        and not any(p.field in _PRESSURES for p in problems)
        and diastolic >= systolic
    ):
        problems.append(
            FieldProblem(VitalField.DIASTOLIC_MMHG.value, "must be below the systolic pressure")
        )
    return problems


def _alert(threshold: Threshold, value: int) -> Alert:
    return Alert(
        code=threshold.code,
        field=threshold.field,
        value=value,
        threshold=threshold.value,
        comparator=threshold.comparator,
        recommended_action=threshold.actions[0],
        actions=threshold.actions,
        message=threshold.message,
        source=threshold.source,
    )


def vitals_alerts(protocol_thresholds: Sequence[Threshold], vitals: Vitals) -> list[Alert]:
    """The alerts whose threshold the observed values meet, in the protocol's order.

    A value that was not measured raises nothing here; plausibility is checked separately by
    `vitals_check_plausible` (the chart refuses implausible values before they get here).
    """
    alerts: list[Alert] = []
    for threshold in protocol_thresholds:
        value = getattr(vitals, threshold.field)  # a VitalField is its attribute's name
        if value is not None and threshold.comparator.holds(value, threshold.value):
            alerts.append(_alert(threshold, value))
    return alerts


def alert_needs_note(actions: Iterable[Action]) -> bool:
    """Whether acknowledging an alert with these actions needs a note of what was done: any
    of them stops or pauses the infusion or calls the prescriber."""
    return any(action.needs_note for action in actions)


def predose_hold(*, protocol: Protocol, vitals: Vitals) -> PredoseDecision:
    """Whether to hold the dose for clinician review, with the reasons.

    A value the hold thresholds need but that was not measured also holds the dose.
    """
    alerts = tuple(vitals_alerts(protocol.predose_holds, vitals))
    needed = dict.fromkeys(threshold.field for threshold in protocol.predose_holds)
    missing = tuple(field for field in needed if vitals.value_of(field) is None)
    return PredoseDecision(hold=bool(alerts or missing), alerts=alerts, missing=missing)


def discharge_check(
    *,
    minutes_since_infusion_end: int,
    aldrete_total: int,
    escort_present: bool,
    protocol: Protocol,
    override_reason: str | None = None,
) -> DischargeDecision:
    """Whether the patient may go home, listing every gate that is not met.

    A clinician's non-empty `override_reason` allows discharge despite unmet gates; the reasons
    are still listed and the override recorded. Minutes count from the end of the infusion (or
    the last nasal device or injection).
    """
    gate = protocol.discharge
    if isinstance(minutes_since_infusion_end, bool) or not isinstance(
        minutes_since_infusion_end, int
    ):
        raise ValueError("minutes_since_infusion_end: expected whole minutes")
    if minutes_since_infusion_end < 0:
        raise ValueError("minutes_since_infusion_end: the infusion has not ended")
    scale_max = gate.aldrete_scale_max.value
    if isinstance(aldrete_total, bool) or not isinstance(aldrete_total, int):
        raise ValueError("aldrete_total: expected a whole number")
    if not 0 <= aldrete_total <= scale_max:
        raise ValueError(f"aldrete_total: must be between 0 and {scale_max}")

    reasons: list[DischargeReason] = []
    minimum = gate.min_observation_minutes.value
    if minutes_since_infusion_end < minimum:
        reasons.append(
            DischargeReason(
                "observation_too_short",
                f"observed {minutes_since_infusion_end} min after the end of dosing; "
                f"the protocol requires at least {minimum} min",
            )
        )
    if aldrete_total < gate.aldrete_min.value:
        reasons.append(
            DischargeReason(
                "aldrete_below_gate",
                f"modified Aldrete {aldrete_total}; the protocol requires at least "
                f"{gate.aldrete_min.value}",
            )
        )
    if gate.escort_required.value and not escort_present:
        reasons.append(DischargeReason("no_escort", "no escort is present"))

    reason = (override_reason or "").strip()
    overridden = bool(reasons) and bool(reason)
    return DischargeDecision(
        allowed=not reasons or overridden,
        reasons=tuple(reasons),
        overridden=overridden,
        override_reason=reason if overridden else None,
    )
