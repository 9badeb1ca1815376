"""Dose, drawn-up volume and pump rate for one session. Pure Decimal arithmetic, no Django.

Order of rounding (a deliberate choice, shown in `DoseCalculation.working`):

1. dose_mg = mg/kg x weight (or the fixed mg), rounded to the protocol's dose quantum;
2. drug_volume_ml = the *rounded* dose / concentration, rounded to the volume quantum, because
   the rounded dose is what is prescribed and charted and the rounded volume is what the nurse
   draws up and the ledger records;
3. rate_ml_per_h = (bag + the *rounded* drug volume, or the bag alone when the protocol says an
   equal volume is withdrawn first) x 60 / minutes, rounded to the pump's rate quantum.

Multiplying by 60 before dividing by the minutes keeps the arithmetic exact wherever it can be
(40 minutes: 103.63 x 60 / 40 = 155.445 exactly, where 103.63 / (40/60) would first round 2/3).
Every quantity is a `Decimal`; a binary float anywhere is refused.

Worked example (the shipped IV protocol): 72.5 kg x 0.5 mg/kg = 36.25 -> 36.3 mg (half up);
36.3 mg / 10 mg/mL = 3.63 mL; (100 + 3.63) mL x 60 / 40 min = 155.445 -> 155.4 mL/h.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ketaclinic.infusions.protocols import (
    DoseBasis,
    DosingParams,
    Protocol,
    Range,
    RateVolume,
)

_PRECISION = 40
"""Working precision, far above anything rounded to (0.01 mL on volumes below 10,000 mL)."""


class DoseInputError(ValueError):
    """An input the calculation refuses: missing, not a Decimal, not positive or implausible."""


class DoseAboveMaximum(ValueError):
    """The rounded dose exceeds the protocol's maximum single dose and no override was given."""

    def __init__(self, dose_mg: Decimal, max_single_dose_mg: Decimal) -> None:
        self.dose_mg = dose_mg
        self.max_single_dose_mg = max_single_dose_mg
        super().__init__(
            f"dose {dose_mg} mg is above the protocol maximum of {max_single_dose_mg} mg; "
            "a prescriber must give an override reason"
        )


@dataclass(frozen=True)
class DoseCalculation:
    protocol_code: str | None
    """None when plain `DosingParams` were given."""
    basis: DoseBasis
    amount: Decimal
    """mg/kg for a per-kg protocol, mg for a fixed dose."""
    weight_kg: Decimal | None
    dose_mg_exact: Decimal
    dose_mg: Decimal
    concentration_mg_per_ml: Decimal | None
    drug_volume_ml: Decimal | None
    """None for a nasal device dose."""
    devices: int | None
    """Number of nasal spray devices; None for drawn-up doses."""
    bag_volume_ml: Decimal | None
    infused_volume_ml: Decimal | None
    infusion_minutes: int | None
    rate_ml_per_h: Decimal | None
    """None unless a bag is given."""
    max_single_dose_mg: Decimal
    above_maximum: bool
    override_reason: str | None
    """The prescriber's reason, recorded only when the dose is above the maximum."""
    rounding_mode: str
    working: tuple[str, ...]
    """The arithmetic in words, for the second staff member who checks it."""


def _decimal_input(name: str, value: object, limits: Range | None) -> Decimal:
    if isinstance(value, float):
        raise DoseInputError(f"{name}: binary floats are refused; pass a Decimal such as '72.5'")
    if not isinstance(value, Decimal):
        raise DoseInputError(f"{name}: expected a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise DoseInputError(f"{name}: must be a finite number")
    if value <= 0:
        raise DoseInputError(f"{name}: must be above zero, got {value}")
    if limits is not None and not limits.contains(value):
        raise DoseInputError(
            f"{name}: {value} is outside the plausible range {limits.low}-{limits.high}"
        )
    return value


def dose_calculate(
    *,
    protocol_or_params: Protocol | DosingParams,
    weight_kg: Decimal | None,
    concentration_mg_per_ml: Decimal | None,
    bag_volume_ml: Decimal | None = None,
    amount: Decimal | None = None,
    override_reason: str | None = None,
) -> DoseCalculation:
    """Compute the session's dose, drug volume and (with a bag) pump rate.

    `amount` picks one of the protocol's allowed amounts (mg/kg, or mg for a fixed dose);
    it defaults to the protocol's default amount. Weight is required for per-kg dosing;
    concentration for anything drawn up from a vial (not for a nasal device); a bag only for a
    protocol with an infusion time. Raises `DoseInputError` for a refused input and
    `DoseAboveMaximum` when the rounded dose exceeds the maximum without an override reason.
    """
    if isinstance(protocol_or_params, Protocol):
        params = protocol_or_params.dosing
        protocol_code: str | None = protocol_or_params.code
    else:
        params = protocol_or_params
        protocol_code = None
    limits = params.input_limits
    rounding = params.rounding
    mode = rounding.mode
    working: list[str] = []

    if amount is None:
        amount = params.amount.value
    else:
        amount = _decimal_input("amount", amount, None)
        if amount not in params.allowed_amounts.value:
            allowed = ", ".join(str(a) for a in params.allowed_amounts.value)
            raise DoseInputError(
                f"amount: {amount} is not one of the protocol's amounts ({allowed})"
            )

    if weight_kg is not None:
        weight_kg = _decimal_input("weight_kg", weight_kg, limits.weight_kg)

    with decimal.localcontext() as ctx:
        ctx.prec = _PRECISION
        if params.basis is DoseBasis.PER_KG:
            if weight_kg is None:
                raise DoseInputError("weight_kg: required for a per-kg dose")
            dose_exact = amount * weight_kg
            dose_mg = dose_exact.quantize(rounding.dose_mg, rounding=mode)
            working.append(
                f"dose = {amount} mg/kg x {weight_kg} kg = {dose_exact} mg"
                f" -> {dose_mg} mg ({mode} to {rounding.dose_mg})"
            )
        else:
            dose_exact = amount
            dose_mg = dose_exact.quantize(rounding.dose_mg, rounding=mode)
            working.append(f"dose = fixed {dose_mg} mg")

        max_mg = params.max_single_dose_mg.value
        above_maximum = dose_mg > max_mg
        reason = (override_reason or "").strip()
        if above_maximum:
            if not reason:
                raise DoseAboveMaximum(dose_mg, max_mg)
            working.append(
                f"dose {dose_mg} mg is above the maximum {max_mg} mg; override: {reason}"
            )

        drug_volume_ml: Decimal | None = None
        devices: int | None = None
        if params.route.needs_volume:
            if concentration_mg_per_ml is None:
                raise DoseInputError("concentration_mg_per_ml: required to draw up the dose")
            concentration_mg_per_ml = _decimal_input(
                "concentration_mg_per_ml", concentration_mg_per_ml, limits.concentration_mg_per_ml
            )
            drug_volume_ml = (dose_mg / concentration_mg_per_ml).quantize(
                rounding.volume_ml, rounding=mode
            )
            working.append(
                f"volume = {dose_mg} mg / {concentration_mg_per_ml} mg/mL"
                f" = {dose_mg / concentration_mg_per_ml} mL"
                f" -> {drug_volume_ml} mL ({mode} to {rounding.volume_ml})"
            )
            if drug_volume_ml == 0:
                # Nothing measurable to draw at the syringe's precision (protocol data).
                raise DoseInputError(
                    f"concentration_mg_per_ml: the volume to draw rounds to {drug_volume_ml} mL"
                    f" at {concentration_mg_per_ml.normalize():f} mg/mL; use a lower"
                    " concentration"
                )
        else:
            if concentration_mg_per_ml is not None:
                raise DoseInputError(
                    "concentration_mg_per_ml: a nasal device dose has no concentration to enter"
                )
            if params.device_mg is None:
                raise DoseInputError("protocol: a nasal dose needs mg per device")
            count = dose_mg / params.device_mg.value
            if count != count.to_integral_value():
                raise DoseInputError(
                    f"dose {dose_mg} mg is not a whole number of "
                    f"{params.device_mg.value} mg devices"
                )
            devices = int(count)
            working.append(f"devices = {dose_mg} mg / {params.device_mg.value} mg = {devices}")

        infused_volume_ml: Decimal | None = None
        rate_ml_per_h: Decimal | None = None
        minutes = params.infusion_minutes.value if params.infusion_minutes else None
        if bag_volume_ml is not None:
            if minutes is None or params.rate_volume is None or drug_volume_ml is None:
                raise DoseInputError("bag_volume_ml: this protocol has no infusion time")
            bag_volume_ml = _decimal_input("bag_volume_ml", bag_volume_ml, limits.bag_volume_ml)
            if params.rate_volume.value is RateVolume.BAG_PLUS_DRUG:
                infused_volume_ml = bag_volume_ml + drug_volume_ml
                working.append(
                    f"infused volume = {bag_volume_ml} mL bag + {drug_volume_ml} mL drug"
                    f" = {infused_volume_ml} mL"
                )
            else:
                infused_volume_ml = bag_volume_ml
                working.append(f"infused volume = {bag_volume_ml} mL bag (drug volume withdrawn)")
            rate_exact = infused_volume_ml * 60 / minutes
            rate_ml_per_h = rate_exact.quantize(rounding.rate_ml_per_h, rounding=mode)
            working.append(
                f"rate = {infused_volume_ml} mL x 60 / {minutes} min = {rate_exact} mL/h"
                f" -> {rate_ml_per_h} mL/h ({mode} to {rounding.rate_ml_per_h})"
            )

    return DoseCalculation(
        protocol_code=protocol_code,
        basis=params.basis,
        amount=amount,
        weight_kg=weight_kg,
        dose_mg_exact=dose_exact,
        dose_mg=dose_mg,
        concentration_mg_per_ml=concentration_mg_per_ml,
        drug_volume_ml=drug_volume_ml,
        devices=devices,
        bag_volume_ml=bag_volume_ml,
        infused_volume_ml=infused_volume_ml,
        infusion_minutes=minutes,
        rate_ml_per_h=rate_ml_per_h,
        max_single_dose_mg=max_mg,
        above_maximum=above_maximum,
        override_reason=reason if above_maximum else None,
        rounding_mode=mode,
        working=tuple(working),
    )


def weight_is_current(*, measured_at: datetime, at: datetime, protocol: Protocol) -> bool:
    """Whether a weight measured at `measured_at` may still be used for dosing at `at`.

    Both must be aware datetimes; a weight measured after `at` is a data error.
    """
    for name, moment in (("measured_at", measured_at), ("at", at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name}: aware datetimes only")
    measured_at, at = measured_at.astimezone(UTC), at.astimezone(UTC)  # elapsed time across DST
    if measured_at > at:
        raise ValueError("measured_at: after the time of dosing")
    return at - measured_at <= timedelta(days=protocol.weight_valid_days.value)
