"""Volumes and amounts as the ledger writes them: the digits that matter, never an exponent
(`Decimal("500.0000").normalize()` alone would show as 5E+2)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from ketaclinic.ledger.entries import ZERO, ml_text

register = template.Library()


@register.filter
def ml(value: Decimal | None) -> str:
    """12.5000 -> '12.5 mL'."""
    if value is None:
        return ""
    return ml_text(Decimal(value))


@register.filter
def mg(value: Decimal | None) -> str:
    """500.00000000 -> '500 mg'."""
    if value is None:
        return ""
    amount = Decimal(value)
    return f"{amount.normalize():f} mg" if amount != ZERO else "0 mg"
