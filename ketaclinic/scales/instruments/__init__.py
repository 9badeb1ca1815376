"""The built-in rating-scale instruments, one JSON file each in this package, typed on load.

>>> get("gad7").scoring.max_total
21

Copyrighted scales ship as definitions without item text; a clinic imports the licensed
wording (FHIR Questionnaire import) and keeps these scores, bands and rules.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

from ketaclinic.scales.instruments.consistency import consistency_problems
from ketaclinic.scales.instruments.definition import (
    AnswerOption,
    Band,
    BandSet,
    Condition,
    Cutoff,
    FlagRule,
    Instrument,
    InstrumentDefinitionInvalid,
    Item,
    MeaningfulChange,
    ProratingRule,
    RemissionRule,
    ResponseRule,
    RiskLevelRule,
    RiskRule,
    Scoring,
    Subscale,
)
from ketaclinic.scales.instruments.parsing import parse_instrument

__all__ = [
    "BUILTIN_CODES",
    "AnswerOption",
    "Band",
    "BandSet",
    "Condition",
    "Cutoff",
    "FlagRule",
    "Instrument",
    "InstrumentDefinitionInvalid",
    "InstrumentUnknown",
    "Item",
    "MeaningfulChange",
    "ProratingRule",
    "RemissionRule",
    "ResponseRule",
    "RiskLevelRule",
    "RiskRule",
    "Scoring",
    "Subscale",
    "consistency_problems",
    "get",
    "load_builtin",
    "parse_instrument",
]

BUILTIN_CODES: Final = (
    "gad7",
    "phq9",
    "hama",
    "bprs_plus",
    "moaas",
    "aldrete_modified",
    "spin",
    "lsas",
    "pdss_sr",
    "ybocs",
    "ocir",
    "cadss",
    "cssrs_screener",
)
"""Codes of the built-in instruments; each is the name of its JSON file."""


class InstrumentUnknown(KeyError):
    """No built-in instrument has this code."""


def _read(code: str) -> Instrument:
    text = resources.files(__name__).joinpath(f"{code}.json").read_text(encoding="utf-8")
    instrument = parse_instrument(json.loads(text))
    if instrument.code != code:
        raise InstrumentDefinitionInvalid(code, [f"$.code: {instrument.code!r} in {code}.json"])
    return instrument


@cache
def _builtin() -> MappingProxyType[str, Instrument]:
    return MappingProxyType({code: _read(code) for code in BUILTIN_CODES})


def load_builtin() -> dict[str, Instrument]:
    """Every built-in instrument by code (parsed once, then cached; the dict is a fresh copy)."""
    return dict(_builtin())


def get(code: str) -> Instrument:
    """The built-in instrument ``code``, or ``InstrumentUnknown``."""
    try:
        return _builtin()[code]
    except KeyError:
        raise InstrumentUnknown(code) from None
