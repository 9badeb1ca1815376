"""Typed, frozen shapes of an infusion protocol.

Every clinical number carries the `source` it came from, so a screen can show it next to the
value and the medical director can see what changing it departs from. The shipped defaults are
JSON files next to this module; `loader.py` turns them into these classes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")


class Route(enum.StrEnum):
    IV = "IV"
    IM = "IM"
    SC = "SC"
    INTRANASAL = "intranasal"

    @property
    def needs_volume(self) -> bool:
        """Whether the dose is drawn up as a volume from a vial (all but the nasal device)."""
        return self is not Route.INTRANASAL


class DoseBasis(enum.StrEnum):
    PER_KG = "per_kg"
    """`amount` is mg per kg of body weight."""
    FIXED = "fixed"
    """`amount` is mg, whatever the weight."""


class RateVolume(enum.StrEnum):
    """What volume the pump delivers over the infusion time."""

    BAG_PLUS_DRUG = "bag_plus_drug"
    """The drug is injected into the bag without withdrawing diluent first."""
    BAG_ONLY = "bag_only"
    """An equal volume of diluent is withdrawn first, or the bag volume already includes it."""


class Phase(enum.StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"


class VitalField(enum.StrEnum):
    SYSTOLIC_MMHG = "systolic_mmhg"
    DIASTOLIC_MMHG = "diastolic_mmhg"
    HEART_RATE_BPM = "heart_rate_bpm"
    SPO2_PERCENT = "spo2_percent"
    RESPIRATORY_RATE = "respiratory_rate"
    MOAAS = "moaas"
    """Modified Observer's Assessment of Alertness/Sedation, 0 (no response) to 5 (alert)."""


class Comparator(enum.StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"

    def holds(self, value: int, threshold: int) -> bool:
        """Whether `value <comparator> threshold`, e.g. 180 >= 180 is True."""
        if self is Comparator.GE:
            return value >= threshold
        if self is Comparator.GT:
            return value > threshold
        if self is Comparator.LE:
            return value <= threshold
        return value < threshold


class Action(enum.StrEnum):
    """Recommended actions, in the words the nurse sees on the alert."""

    HOLD = "hold"
    """Do not start the dose until a clinician has reviewed."""
    RECHECK = "recheck"
    SLOW = "slow"
    PAUSE = "pause"
    STOP = "stop"
    CALL_PRESCRIBER = "call_prescriber"

    @property
    def needs_note(self) -> bool:
        """Whether acknowledging an alert that calls for this action needs a note of what was
        done (the infusion was changed or the prescriber called: the record says how)."""
        return self in (Action.PAUSE, Action.STOP, Action.CALL_PRESCRIBER)


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """One value with where it came from ("clinic default, editable" when nothing better)."""

    value: T
    source: str


@dataclass(frozen=True)
class Range:
    """Inclusive lower and upper limits."""

    low: Decimal
    high: Decimal

    def contains(self, value: Decimal | int) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Rounding:
    """Quanta for each computed number, e.g. Decimal("0.1"), and one rounding mode."""

    mode: str
    """A `decimal` rounding constant, e.g. "ROUND_HALF_UP"."""
    dose_mg: Decimal
    volume_ml: Decimal
    rate_ml_per_h: Decimal
    source: str


@dataclass(frozen=True)
class DoseInputLimits:
    """Plausibility limits for what staff type in; they catch typos, they are not clinical."""

    weight_kg: Range
    concentration_mg_per_ml: Range
    bag_volume_ml: Range
    source: str


@dataclass(frozen=True)
class DosingParams:
    basis: DoseBasis
    amount: Sourced[Decimal]
    """The default: mg/kg when `basis` is per_kg, otherwise mg."""
    allowed_amounts: Sourced[tuple[Decimal, ...]]
    """Amounts a prescriber may choose for a session; the default is one of them."""
    max_single_dose_mg: Sourced[Decimal]
    infusion_minutes: Sourced[int] | None
    """None for an injection or a nasal spray."""
    device_mg: Sourced[Decimal] | None
    """mg per nasal spray device; None for drawn-up doses."""
    rate_volume: Sourced[RateVolume] | None
    """None when nothing is infused."""
    rounding: Rounding
    input_limits: DoseInputLimits
    route: Route


@dataclass(frozen=True)
class PhaseRule:
    min_hours_between: Sourced[int]
    max_sessions: Sourced[int] | None
    """None when the phase has no session count limit."""
    window_days: Sourced[int] | None
    """All sessions of the phase lie within this many days of the first; None for no window."""


@dataclass(frozen=True)
class Threshold:
    code: str
    field: VitalField
    comparator: Comparator
    value: int
    actions: tuple[Action, ...]
    """Recommended actions, most important first; never empty."""
    message: str
    source: str


@dataclass(frozen=True)
class MonitoringRules:
    vitals_interval_dosing_minutes: Sourced[int]
    vitals_interval_recovery_minutes: Sourced[int]
    bp_after_dose_minutes: Sourced[int] | None = None
    """The blood pressure the esketamine REMS form asks for after dosing (None: no such form)."""
    dissociation_rating: Sourced[Range] | None = None
    """The single 0 (none) to 4 (extreme) dissociation rating the chart accepts, if any."""
    monitor_autoconfirm_minutes: Sourced[int] | None = None
    """When the clinic chooses it: bedside-monitor readings count as charted this long after
    they arrive without a nurse's click (None: a nurse confirms every batch)."""


@dataclass(frozen=True)
class DischargeGate:
    min_observation_minutes: Sourced[int]
    """Counted from the end of the infusion (or the last nasal device / injection)."""
    aldrete_min: Sourced[int]
    aldrete_scale_max: Sourced[int]
    escort_required: Sourced[bool]


@dataclass(frozen=True)
class Preparation:
    """What the patient is asked to do before a session; the patient portal shows it beside
    each coming session (with the escort rule of ``DischargeGate``)."""

    no_food_minutes: Sourced[int]
    """Nothing to eat for this long before the session starts."""
    no_drinks_minutes: Sourced[int]
    """Nothing to drink (clear fluids included) for this long before the session starts."""
    no_driving_until_next_day: Sourced[bool]


@dataclass(frozen=True)
class Note:
    text: str
    source: str


@dataclass(frozen=True)
class Protocol:
    code: str
    title: str
    route: Route
    medication: str
    dosing: DosingParams
    weight_valid_days: Sourced[int]
    schedule: Mapping[Phase, PhaseRule]
    """Read-only (a MappingProxyType)."""
    monitoring: MonitoringRules
    predose_holds: tuple[Threshold, ...]
    alerts: tuple[Threshold, ...]
    discharge: DischargeGate
    vitals_plausibility: Mapping[VitalField, Range]
    """Plausibility limits for data entry, not clinical; read-only."""
    vitals_plausibility_source: str
    notes: tuple[Note, ...]
    preparation: Preparation | None = None
    """Optional: protocol versions stored before it existed have none (the portal then says
    to ask the clinic)."""
