"""Whether the ketamine drawn from the ledger for a session covers its dose. Pure: no Django.

The chart refuses to start a dose that was not drawn (21 CFR 1304.22: every dispensed quantity
is accounted for in the ledger), unless a clinician records why it goes ahead without one.
"""

from __future__ import annotations

from decimal import Decimal

MG_SHOWN = Decimal("0.001")
"""Amounts are shown to the microgram at most, and without trailing zeros."""


def mg_text(value: Decimal) -> str:
    """An amount of drug as a person reads it: ``32 mg``, ``36.3 mg`` (never ``32.0000 mg``)."""
    return f"{value.quantize(MG_SHOWN).normalize():f} mg"


def draw_problems(*, dose_mg: Decimal, drawn_mg: Decimal | None) -> list[str]:
    """What stands between the draws and the start (empty: the draws cover the dose).

    `dose_mg` is what the dose draws up (its volume at its concentration, or the devices' mg);
    `drawn_mg` is what the session's draws hold and have not wasted, None when nothing was drawn.
    """
    if drawn_mg is None:
        return [
            "No ketamine draw from the ledger is recorded for this session: record the draw "
            "(container and volume) in the ledger, or a clinician records why the dose goes "
            "ahead without one."
        ]
    if drawn_mg < dose_mg:
        return [
            f"Only {mg_text(drawn_mg)} drawn from the ledger for this session; the dose needs "
            f"{mg_text(dose_mg)}: record the rest of the draw."
        ]
    return []
