"""Draws for a session, the administration the chart records, and waste."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.ledger.entries import ZERO, LedgerRefused
from ketaclinic.ledger.measuring import (
    draw_volume_quantum_ml,
    volume_rounds_to_zero,
    zero_volume_text,
)
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.ledger.selectors import administration_split, ml_quantize, session_draws
from ketaclinic.ledger.services.core import _append, _containers_locked, _Pending, _positive_ml
from ketaclinic.ledger.services.witnesses import WitnessCredentials, witness_authenticate


@transaction.atomic
def ledger_draw(
    *, acting_user: Any, container: Container, session: Any, ml: Decimal
) -> LedgerEntry:
    """A nurse draws a volume from a container into a syringe for a session."""
    require(acting_user, "ledger.draw")
    volume = _positive_ml(ml, "volume_ml")
    if volume_rounds_to_zero(volume):
        raise ValidationError(
            {
                "volume_ml": [
                    f"{volume.normalize():f} mL rounds to {zero_volume_text()} at the syringe's"
                    f" precision ({draw_volume_quantum_ml()} mL): record the volume as measured,"
                    f" at least {draw_volume_quantum_ml()} mL."
                ]
            }
        )
    if session.status in {"signed", "cancelled"}:
        raise LedgerRefused(f"The session is {session.status}; nothing can be drawn for it.")
    (row,) = _append(
        acting_user=acting_user,
        pending=[_Pending(container=container, kind=EntryKind.DRAW, ml=volume, session=session)],
    )
    return row


@transaction.atomic
def ledger_administration_record(*, acting_user: Any, session: Any) -> list[LedgerEntry]:
    """Record in the ledger what the chart says was given (`session.administered_mg`).

    The chart calls this when the infusion stops (and again if the dose is corrected). The
    dose is split over the session's draws in the order drawn, converted to mL with each
    container's concentration; what was already recorded is subtracted, and a lower dose
    than recorded is recorded as compensating corrections.

    It never refuses, so that stopping an infusion is never blocked by bookkeeping: with no
    dose charted or nothing drawn it records nothing, and a dose larger than the draws is
    recorded as far as it fits. `session_ledger_problems` reports what is left over, and
    signing waits for it.
    """
    require(acting_user, "ledger.administer")
    charted: Decimal | None = getattr(session, "administered_mg", None)
    if charted is None:
        return []
    draws = session_draws(session)
    if not draws:
        return []
    _containers_locked([row.container_id for row, _, _ in draws])
    draws = session_draws(session)  # again, now that the containers are locked
    recorded = sum((draw.administered_mg for _, draw, _ in draws), ZERO)
    delta = charted - recorded
    pending: list[_Pending] = []
    if delta > ZERO:
        split, _unplaced = administration_split([(r, d) for r, d, _ in draws], delta)
        pending = [
            _Pending(
                container=row.container,
                kind=EntryKind.ADMINISTRATION,
                ml=ml,
                draw=row,
                session=session,
                details={"charted_mg": str(charted)},
            )
            for row, ml in split
        ]
    elif delta < ZERO:
        remaining = -delta
        administrations = LedgerEntry.objects.filter(
            session=session, kind=EntryKind.ADMINISTRATION
        ).select_related("container", "draw")
        for admin_row in reversed(list(administrations.order_by("seq"))):
            if remaining <= ZERO:
                break
            draw_state = next(d for r, d, _ in draws if r.pk == admin_row.draw_id)
            given_ml = draw_state.administered
            if given_ml <= ZERO:
                continue
            take = min(ml_quantize(remaining / draw_state.mg_per_ml), given_ml, admin_row.ml)
            pending.append(
                _Pending(
                    container=admin_row.container,
                    kind=EntryKind.CORRECTION,
                    ml=-take,
                    corrects=admin_row,
                    session=session,
                    reason=f"The chart's administered dose changed from {recorded} mg to "
                    f"{charted} mg.",
                )
            )
            remaining -= take * draw_state.mg_per_ml
    if not pending:
        return []
    return _append(acting_user=acting_user, pending=pending)


def ledger_waste(
    *,
    acting_user: Any,
    draw: LedgerEntry,
    ml: Decimal,
    method: str,
    witness: WitnessCredentials | None,
) -> LedgerEntry:
    """What remains of a draw after the dose, destroyed; witnessed where the location says."""
    require(acting_user, "ledger.waste")
    volume = _positive_ml(ml, "volume_ml")
    if not method.strip():
        raise ValidationError({"method": ["Say how the waste was destroyed."]})
    # The witness authenticates outside the transaction: a wrong password must count
    # towards their sign-in lockout, and a refused write would roll that count back.
    witness_user = None
    if draw.container.location.waste_witness_required or witness is not None:
        witness_user = witness_authenticate(acting_user=acting_user, credentials=witness)
    with transaction.atomic():
        (row,) = _append(
            acting_user=acting_user,
            pending=[
                _Pending(
                    container=draw.container,
                    kind=EntryKind.WASTE,
                    ml=volume,
                    draw=draw,
                    session=draw.session,
                    method=method.strip(),
                    witness=witness_user,
                )
            ],
        )
    return row
