"""The smallest volume a nurse can draw: a draw that rounds to 0 at the syringe's precision is
refused. The precision and the rounding are data (``measuring.json``, with its source).
Pure Python, no Django import."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

ZERO = Decimal(0)


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("measuring.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)["draw_volume_quantum_ml"]
    return data


def draw_volume_quantum_ml() -> Decimal:
    """The syringe's precision in mL (0.01 mL by default)."""
    return Decimal(str(_data()["value"]))


def volume_rounds_to_zero(ml: Decimal) -> bool:
    """Whether ``ml`` rounds to 0 at the syringe's precision (so nothing measurable is drawn)."""
    return ml.quantize(draw_volume_quantum_ml(), rounding=str(_data()["rounding"])) == ZERO


def zero_volume_text() -> str:
    """E.g. "0.00 mL": zero written at the syringe's precision."""
    return f"{ZERO.quantize(draw_volume_quantum_ml())} mL"
