"""The ketamine drawn from the ledger for the session's dose, and a clinician's exception when
a dose must start without a recorded draw. The start needs one or the other."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionStatus,
)
from ketaclinic.infusions.rules import draws as draw_rules
from ketaclinic.infusions.services.common import (
    _entry,
    _latest_entry,
    _locked,
    _require_status,
)


@dataclass(frozen=True)
class SessionDraw:
    """One draw from a ledger container for the session, as the ledger replays it."""

    container_id: int
    lot: str
    mg_per_ml: Decimal
    drawn_ml: Decimal
    open_ml: Decimal
    """Drawn and not yet administered, wasted, broken or lost."""

    @property
    def drawn_mg(self) -> Decimal:
        return self.drawn_ml * self.mg_per_ml

    @property
    def open_mg(self) -> Decimal:
        return self.open_ml * self.mg_per_ml

    @property
    def text(self) -> str:
        """As the chart shows it: ``3.63 mL of 10 mg/mL = 36.3 mg``."""
        ml = format(self.drawn_ml.normalize(), "f")
        strength = format(self.mg_per_ml.normalize(), "f")
        return f"{ml} mL of {strength} mg/mL = {draw_rules.mg_text(self.drawn_mg)}"


def session_draws_list(session: Session) -> list[SessionDraw]:
    """The session's draws from the ketamine ledger, in the order drawn."""
    try:
        from ketaclinic.ledger.selectors import session_draw_states
    except ImportError:  # no ledger app: nothing drawn
        return []
    return [
        SessionDraw(
            container_id=draw.container_id,
            lot=draw.lot,
            mg_per_ml=draw.state.mg_per_ml,
            drawn_ml=draw.state.drawn,
            open_ml=draw.state.open_ml,
        )
        for draw in session_draw_states(session)
    ]


def draw_exception(session: Session) -> ChartEntry | None:
    """A clinician's recorded reason to start without a ledger draw, if any."""
    return _latest_entry(session, ChartEntryKind.DRAW_EXCEPTION)


def _dose_needs_mg(dose: DoseCheck) -> Decimal:
    """What the dose draws up: its volume at its concentration, or the devices' mg."""
    if dose.drug_volume_ml is not None and dose.concentration_mg_per_ml is not None:
        return dose.drug_volume_ml * dose.concentration_mg_per_ml
    return dose.dose_mg


def dose_draw_problems(session: Session, dose: DoseCheck) -> list[str]:
    """Whether the session's draws cover this dose (or a clinician excepted it)."""
    if draw_exception(session) is not None:
        return []
    draws = session_draws_list(session)
    drawn = sum((d.open_mg for d in draws), Decimal(0)) if draws else None
    return draw_rules.draw_problems(dose_mg=_dose_needs_mg(dose), drawn_mg=drawn)


@transaction.atomic
def draw_exception_record(*, acting_user: Any, session: Session, reason: str) -> ChartEntry:
    """A clinician lets the dose start without a recorded ledger draw, saying why (audited,
    on the chart and in the signed record). Signing still checks the ledger."""
    require(acting_user, "session.override")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the dose starts without a ledger draw."]})
    locked = _locked(session)
    _require_status(locked, [SessionStatus.CHECKED_IN], "An exception to the ledger draw")
    drawn = sum((d.drawn_mg for d in session_draws_list(locked)), Decimal(0))
    return _entry(
        locked,
        user=acting_user,
        kind=ChartEntryKind.DRAW_EXCEPTION,
        reason=reason,
        data={"drawn_mg": draw_rules.mg_text(drawn)},
    )
