"""The dose calculation and its second check by another staff member."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ketaclinic.accounts.access import require, user_can
from ketaclinic.accounts.second_person import SecondPersonRefused, second_person_authenticate
from ketaclinic.audit.models import Action
from ketaclinic.infusions.models import DoseCheck, Session
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.infusions.rules import dosing
from ketaclinic.infusions.services.common import (
    BEFORE_START,
    ChartRefused,
    _audit,
    _locked,
    _require_status,
    session_protocol,
)


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
    """The second checker, by their own credentials (and TOTP when they have a device or
    their role requires one); a wrong password counts towards their sign-in lockout."""
    try:
        return second_person_authenticate(
            request=request, username=username, password=password, otp=totp
        )
    except SecondPersonRefused as refused:
        if refused.kind == "credentials":
            raise ValidationError(
                {"password": ["The second checker's username or password is wrong."]}
            ) from None
        raise ValidationError({"totp": ["The second checker's TOTP code is wrong."]}) from None


def _dose_to_check(session: Session) -> DoseCheck:
    _require_status(session, BEFORE_START, "A second check")
    dose = DoseCheck.objects.filter(session=session).order_by("-calculated_at", "-pk").first()
    if dose is None:
        raise ChartRefused(["No dose has been calculated for this session."])
    return dose


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
    _dose_to_check(session)  # refused before anyone types a password; again under the lock
    # The checker authenticates outside the transaction: a wrong password must count towards
    # their sign-in lockout, and a refused write would roll that count back.
    witness = _witness(request, username, password, totp)
    with transaction.atomic():
        locked = _locked(session)
        dose = _dose_to_check(locked)
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
