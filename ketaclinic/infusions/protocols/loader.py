"""Read protocol JSON into the frozen classes of `definitions.py`, strictly.

JSON numbers are parsed as `Decimal` (never binary floats). A clinical number without a
`source`, an unknown key, an unknown enum value or a default dose outside its allowed amounts is
refused with `ProtocolDataError` naming the path, e.g. `dosing.amount.source`.
"""

from __future__ import annotations

import decimal
import enum
import json
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeVar

from ketaclinic.infusions.protocols.definitions import (
    Action,
    Comparator,
    DischargeGate,
    DoseBasis,
    DoseInputLimits,
    DosingParams,
    MonitoringRules,
    Note,
    Phase,
    PhaseRule,
    Preparation,
    Protocol,
    Range,
    RateVolume,
    Rounding,
    Route,
    Sourced,
    Threshold,
    VitalField,
)

SCHEMA_VERSION = 1

SHIPPED_FILES = (
    "iv_racemic_ketamine_0_5_mg_kg_40_min.json",
    "intranasal_esketamine_56_mg.json",
    "sc_racemic_ketamine_glue.json",
)
"""The shipped default protocols, the IV one first."""

ROUNDING_MODES = frozenset(
    {
        decimal.ROUND_HALF_UP,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_UP,
        decimal.ROUND_DOWN,
        decimal.ROUND_CEILING,
        decimal.ROUND_FLOOR,
    }
)

E = TypeVar("E", bound=enum.Enum)
V = TypeVar("V")


class ProtocolDataError(ValueError):
    """Protocol data that cannot be trusted; the message starts with the offending path."""


def _obj(
    data: object, path: str, keys: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolDataError(f"{path}: expected an object")
    missing = keys - data.keys()
    if missing:
        raise ProtocolDataError(f"{path}: missing {', '.join(sorted(missing))}")
    unknown = data.keys() - keys - optional
    if unknown:
        raise ProtocolDataError(f"{path}: unknown key {', '.join(sorted(unknown))}")
    return data


def _str(data: object, path: str) -> str:
    if not isinstance(data, str) or not data.strip():
        raise ProtocolDataError(f"{path}: expected non-empty text")
    return data


def _int(data: object, path: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise ProtocolDataError(f"{path}: expected a whole number")
    return data


def _dec(data: object, path: str) -> Decimal:
    if isinstance(data, bool) or not isinstance(data, int | Decimal):
        raise ProtocolDataError(f"{path}: expected a number")
    value = Decimal(data)
    if not value.is_finite():
        raise ProtocolDataError(f"{path}: expected a finite number")
    return value


def _positive(value: Decimal | int, path: str) -> None:
    if value <= 0:
        raise ProtocolDataError(f"{path}: must be above zero")


def _enum(cls: type[E], data: object, path: str) -> E:
    try:
        return cls(data)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in cls)
        raise ProtocolDataError(f"{path}: {data!r} is not one of {allowed}") from None


def _sourced_int(data: object, path: str) -> Sourced[int]:
    obj = _obj(data, path, {"value", "source"}, {"unit"})
    value = _int(obj["value"], f"{path}.value")
    if value < 0:
        raise ProtocolDataError(f"{path}.value: must not be negative")
    return Sourced(value, _str(obj["source"], f"{path}.source"))


def _sourced_dec(data: object, path: str) -> Sourced[Decimal]:
    obj = _obj(data, path, {"value", "source"}, {"unit"})
    value = _dec(obj["value"], f"{path}.value")
    _positive(value, f"{path}.value")
    return Sourced(value, _str(obj["source"], f"{path}.source"))


def _optional(data: object, path: str, parse: Callable[[object, str], V]) -> V | None:
    return None if data is None else parse(data, path)


def _range(data: object, path: str) -> Range:
    obj = _obj(data, path, {"low", "high"})
    low = _dec(obj["low"], f"{path}.low")
    high = _dec(obj["high"], f"{path}.high")
    if low > high:
        raise ProtocolDataError(f"{path}: low is above high")
    return Range(low, high)


def _sourced_range(data: object, path: str) -> Sourced[Range]:
    obj = _obj(data, path, {"low", "high", "source"})
    limits = _range({"low": obj["low"], "high": obj["high"]}, path)
    return Sourced(limits, _str(obj["source"], f"{path}.source"))


def _rounding(data: object, path: str) -> Rounding:
    obj = _obj(data, path, {"mode", "dose_mg", "volume_ml", "rate_ml_per_h", "source"})
    mode = _str(obj["mode"], f"{path}.mode")
    if mode not in ROUNDING_MODES:
        raise ProtocolDataError(f"{path}.mode: {mode!r} is not a decimal rounding mode")
    quanta = {}
    for key in ("dose_mg", "volume_ml", "rate_ml_per_h"):
        quantum = _dec(obj[key], f"{path}.{key}")
        _positive(quantum, f"{path}.{key}")
        if quantum != Decimal(1).scaleb(quantum.adjusted()):
            raise ProtocolDataError(f"{path}.{key}: must be a power of ten such as 0.1 or 0.01")
        quanta[key] = quantum
    return Rounding(
        mode=mode,
        dose_mg=quanta["dose_mg"],
        volume_ml=quanta["volume_ml"],
        rate_ml_per_h=quanta["rate_ml_per_h"],
        source=_str(obj["source"], f"{path}.source"),
    )


def _dosing(data: object, path: str, route: Route) -> DosingParams:
    keys = {
        "basis",
        "amount",
        "allowed_amounts",
        "max_single_dose_mg",
        "infusion_minutes",
        "device_mg",
        "rate_volume",
        "rounding",
        "input_limits",
    }
    obj = _obj(data, path, keys)
    amount = _sourced_dec(obj["amount"], f"{path}.amount")
    allowed_obj = _obj(
        obj["allowed_amounts"], f"{path}.allowed_amounts", {"values", "source"}, {"unit"}
    )
    values = allowed_obj["values"]
    if not isinstance(values, list) or not values:
        raise ProtocolDataError(f"{path}.allowed_amounts.values: expected a non-empty list")
    allowed = tuple(_dec(v, f"{path}.allowed_amounts.values[{i}]") for i, v in enumerate(values))
    for i, value in enumerate(allowed):
        _positive(value, f"{path}.allowed_amounts.values[{i}]")
    if amount.value not in allowed:
        raise ProtocolDataError(f"{path}.amount.value: not among allowed_amounts")
    infusion_minutes = _optional(obj["infusion_minutes"], f"{path}.infusion_minutes", _sourced_int)
    if infusion_minutes is not None:
        _positive(infusion_minutes.value, f"{path}.infusion_minutes.value")
    rate_volume = None
    if obj["rate_volume"] is not None:
        rv = _obj(obj["rate_volume"], f"{path}.rate_volume", {"value", "source"})
        rate_volume = Sourced(
            _enum(RateVolume, rv["value"], f"{path}.rate_volume.value"),
            _str(rv["source"], f"{path}.rate_volume.source"),
        )
    if (infusion_minutes is None) != (rate_volume is None):
        raise ProtocolDataError(f"{path}: infusion_minutes and rate_volume go together")
    device_mg = _optional(obj["device_mg"], f"{path}.device_mg", _sourced_dec)
    if route is Route.INTRANASAL and device_mg is None:
        raise ProtocolDataError(f"{path}.device_mg: an intranasal protocol needs mg per device")
    if route is Route.INTRANASAL and infusion_minutes is not None:
        raise ProtocolDataError(f"{path}.infusion_minutes: nothing is infused intranasally")
    limits = _obj(
        obj["input_limits"],
        f"{path}.input_limits",
        {"weight_kg", "concentration_mg_per_ml", "bag_volume_ml", "source"},
    )
    input_limits = DoseInputLimits(
        weight_kg=_range(limits["weight_kg"], f"{path}.input_limits.weight_kg"),
        concentration_mg_per_ml=_range(
            limits["concentration_mg_per_ml"], f"{path}.input_limits.concentration_mg_per_ml"
        ),
        bag_volume_ml=_range(limits["bag_volume_ml"], f"{path}.input_limits.bag_volume_ml"),
        source=_str(limits["source"], f"{path}.input_limits.source"),
    )
    for key in ("weight_kg", "concentration_mg_per_ml", "bag_volume_ml"):
        _positive(getattr(input_limits, key).low, f"{path}.input_limits.{key}.low")
    return DosingParams(
        basis=_enum(DoseBasis, obj["basis"], f"{path}.basis"),
        amount=amount,
        allowed_amounts=Sourced(
            allowed, _str(allowed_obj["source"], f"{path}.allowed_amounts.source")
        ),
        max_single_dose_mg=_sourced_dec(obj["max_single_dose_mg"], f"{path}.max_single_dose_mg"),
        infusion_minutes=infusion_minutes,
        device_mg=device_mg,
        rate_volume=rate_volume,
        rounding=_rounding(obj["rounding"], f"{path}.rounding"),
        input_limits=input_limits,
        route=route,
    )


def _phase_rule(data: object, path: str) -> PhaseRule:
    obj = _obj(data, path, {"min_hours_between", "max_sessions", "window_days"})
    max_sessions = _optional(obj["max_sessions"], f"{path}.max_sessions", _sourced_int)
    window_days = _optional(obj["window_days"], f"{path}.window_days", _sourced_int)
    if max_sessions is not None:
        _positive(max_sessions.value, f"{path}.max_sessions.value")
    if window_days is not None:
        _positive(window_days.value, f"{path}.window_days.value")
    return PhaseRule(
        min_hours_between=_sourced_int(obj["min_hours_between"], f"{path}.min_hours_between"),
        max_sessions=max_sessions,
        window_days=window_days,
    )


def _threshold(data: object, path: str) -> Threshold:
    obj = _obj(data, path, {"code", "field", "comparator", "value", "actions", "message", "source"})
    actions = obj["actions"]
    if not isinstance(actions, list) or not actions:
        raise ProtocolDataError(f"{path}.actions: expected a non-empty list")
    return Threshold(
        code=_str(obj["code"], f"{path}.code"),
        field=_enum(VitalField, obj["field"], f"{path}.field"),
        comparator=_enum(Comparator, obj["comparator"], f"{path}.comparator"),
        value=_int(obj["value"], f"{path}.value"),
        actions=tuple(_enum(Action, a, f"{path}.actions[{i}]") for i, a in enumerate(actions)),
        message=_str(obj["message"], f"{path}.message"),
        source=_str(obj["source"], f"{path}.source"),
    )


def _thresholds(data: object, path: str) -> tuple[Threshold, ...]:
    if not isinstance(data, list):
        raise ProtocolDataError(f"{path}: expected a list")
    result = tuple(_threshold(item, f"{path}[{i}]") for i, item in enumerate(data))
    codes = [t.code for t in result]
    if len(set(codes)) != len(codes):
        raise ProtocolDataError(f"{path}: threshold codes must be unique")
    return result


def _discharge(data: object, path: str) -> DischargeGate:
    obj = _obj(
        data,
        path,
        {"min_observation_minutes", "aldrete_min", "aldrete_scale_max", "escort_required"},
    )
    escort = _obj(obj["escort_required"], f"{path}.escort_required", {"value", "source"})
    if not isinstance(escort["value"], bool):
        raise ProtocolDataError(f"{path}.escort_required.value: expected true or false")
    gate = DischargeGate(
        min_observation_minutes=_sourced_int(
            obj["min_observation_minutes"], f"{path}.min_observation_minutes"
        ),
        aldrete_min=_sourced_int(obj["aldrete_min"], f"{path}.aldrete_min"),
        aldrete_scale_max=_sourced_int(obj["aldrete_scale_max"], f"{path}.aldrete_scale_max"),
        escort_required=Sourced(
            escort["value"], _str(escort["source"], f"{path}.escort_required.source")
        ),
    )
    if gate.aldrete_min.value > gate.aldrete_scale_max.value:
        raise ProtocolDataError(f"{path}.aldrete_min: above the scale maximum")
    return gate


def _preparation(data: object, path: str) -> Preparation:
    obj = _obj(data, path, {"no_food_minutes", "no_drinks_minutes", "no_driving_until_next_day"})
    driving = _obj(
        obj["no_driving_until_next_day"], f"{path}.no_driving_until_next_day", {"value", "source"}
    )
    if not isinstance(driving["value"], bool):
        raise ProtocolDataError(f"{path}.no_driving_until_next_day.value: expected true or false")
    return Preparation(
        no_food_minutes=_sourced_int(obj["no_food_minutes"], f"{path}.no_food_minutes"),
        no_drinks_minutes=_sourced_int(obj["no_drinks_minutes"], f"{path}.no_drinks_minutes"),
        no_driving_until_next_day=Sourced(
            driving["value"], _str(driving["source"], f"{path}.no_driving_until_next_day.source")
        ),
    )


def protocol_from_dict(data: Mapping[str, Any], *, origin: str = "protocol") -> Protocol:
    """Validate parsed JSON (numbers as Decimal or int) and build a `Protocol`."""
    keys = {
        "schema_version",
        "code",
        "title",
        "route",
        "medication",
        "dosing",
        "weight_valid_days",
        "schedule",
        "monitoring",
        "predose_holds",
        "alerts",
        "discharge",
        "vitals_plausibility",
        "notes",
    }
    obj = _obj(dict(data), origin, keys, {"status", "preparation"})
    if obj["schema_version"] != SCHEMA_VERSION:
        raise ProtocolDataError(f"{origin}.schema_version: expected {SCHEMA_VERSION}")
    route = _enum(Route, obj["route"], f"{origin}.route")

    schedule_obj = _obj(obj["schedule"], f"{origin}.schedule", {phase.value for phase in Phase})
    schedule = {
        phase: _phase_rule(schedule_obj[phase.value], f"{origin}.schedule.{phase.value}")
        for phase in Phase
    }
    monitoring_obj = _obj(
        obj["monitoring"],
        f"{origin}.monitoring",
        {"vitals_interval_dosing_minutes", "vitals_interval_recovery_minutes"},
        {"bp_after_dose_minutes", "dissociation_rating", "monitor_autoconfirm_minutes"},
    )
    autoconfirm = _optional(
        monitoring_obj.get("monitor_autoconfirm_minutes"),
        f"{origin}.monitoring.monitor_autoconfirm_minutes",
        _sourced_int,
    )
    if autoconfirm is not None:
        _positive(autoconfirm.value, f"{origin}.monitoring.monitor_autoconfirm_minutes.value")
    after_dose = _optional(
        monitoring_obj.get("bp_after_dose_minutes"),
        f"{origin}.monitoring.bp_after_dose_minutes",
        _sourced_int,
    )
    if after_dose is not None:
        _positive(after_dose.value, f"{origin}.monitoring.bp_after_dose_minutes.value")
    rating = _optional(
        monitoring_obj.get("dissociation_rating"),
        f"{origin}.monitoring.dissociation_rating",
        _sourced_range,
    )
    monitoring = MonitoringRules(
        vitals_interval_dosing_minutes=_sourced_int(
            monitoring_obj["vitals_interval_dosing_minutes"],
            f"{origin}.monitoring.vitals_interval_dosing_minutes",
        ),
        vitals_interval_recovery_minutes=_sourced_int(
            monitoring_obj["vitals_interval_recovery_minutes"],
            f"{origin}.monitoring.vitals_interval_recovery_minutes",
        ),
        bp_after_dose_minutes=after_dose,
        dissociation_rating=rating,
        monitor_autoconfirm_minutes=autoconfirm,
    )
    plaus_obj = _obj(
        obj["vitals_plausibility"], f"{origin}.vitals_plausibility", {"source", "limits"}
    )
    limits_obj = _obj(
        plaus_obj["limits"], f"{origin}.vitals_plausibility.limits", {f.value for f in VitalField}
    )
    plausibility = {
        field: _range(limits_obj[field.value], f"{origin}.vitals_plausibility.limits.{field.value}")
        for field in VitalField
    }
    notes_data = obj["notes"]
    if not isinstance(notes_data, list):
        raise ProtocolDataError(f"{origin}.notes: expected a list")
    notes = []
    for i, item in enumerate(notes_data):
        note = _obj(item, f"{origin}.notes[{i}]", {"text", "source"})
        notes.append(
            Note(
                _str(note["text"], f"{origin}.notes[{i}].text"),
                _str(note["source"], f"{origin}.notes[{i}].source"),
            )
        )
    weight_valid_days = _sourced_int(obj["weight_valid_days"], f"{origin}.weight_valid_days")
    _positive(weight_valid_days.value, f"{origin}.weight_valid_days.value")
    return Protocol(
        code=_str(obj["code"], f"{origin}.code"),
        title=_str(obj["title"], f"{origin}.title"),
        route=route,
        medication=_str(obj["medication"], f"{origin}.medication"),
        dosing=_dosing(obj["dosing"], f"{origin}.dosing", route),
        weight_valid_days=weight_valid_days,
        schedule=MappingProxyType(schedule),
        monitoring=monitoring,
        predose_holds=_thresholds(obj["predose_holds"], f"{origin}.predose_holds"),
        alerts=_thresholds(obj["alerts"], f"{origin}.alerts"),
        discharge=_discharge(obj["discharge"], f"{origin}.discharge"),
        vitals_plausibility=MappingProxyType(plausibility),
        vitals_plausibility_source=_str(
            plaus_obj["source"], f"{origin}.vitals_plausibility.source"
        ),
        notes=tuple(notes),
        preparation=_optional(obj.get("preparation"), f"{origin}.preparation", _preparation),
    )


def protocol_from_json(text: str, *, origin: str = "protocol") -> Protocol:
    """Parse JSON text with numbers as Decimal, then validate it."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ProtocolDataError(f"{origin}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ProtocolDataError(f"{origin}: expected an object")
    return protocol_from_dict(data, origin=origin)


def shipped_protocols() -> tuple[Protocol, ...]:
    """Every shipped default protocol, the IV racemic ketamine one first."""
    package = resources.files("ketaclinic.infusions.protocols")
    return tuple(
        protocol_from_json((package / name).read_text(encoding="utf-8"), origin=name)
        for name in SHIPPED_FILES
    )


def shipped_protocol(code: str) -> Protocol:
    """One shipped default protocol by its code; `KeyError` when there is none."""
    for protocol in shipped_protocols():
        if protocol.code == code:
            return protocol
    raise KeyError(code)
