"""The code book: monitor observation codes (MDC, Philips MDIL) to chart fields, with the
units accepted for each, the "no value" sentinels and the tenths quirk. Data in
`data/codes.json` (editable, with sources); this module only reads it. Pure: no Django."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class CodeEntry:
    system: str
    code: str
    name: str
    field: str
    """The chart field, or "" for a code we know but do not chart (mean pressure)."""
    unit: str
    """The accepted unit sets (`units` keys), separated by "|"."""
    kind: str
    """"periodic" (measured continuously) or "nibp" (its own time, OBX-14)."""
    channel: str
    source: str


@dataclass(frozen=True)
class UnitEntry:
    name: str
    accept: frozenset[str]
    convert: str
    source: str


UNIT_CACHE_MAX = 1024
UNIT_TEXT_MAX = 128


@dataclass(frozen=True)
class CodeBook:
    codes: dict[tuple[str, str], CodeEntry]
    units: dict[str, UnitEntry]
    no_value: frozenset[Decimal]
    tenths_fields: frozenset[str]
    tenths_low: Decimal
    tenths_high: Decimal
    heart_rate_priority: tuple[str, ...]
    _accepted: dict[tuple[str, tuple[str, ...]], UnitEntry | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    """`unit_accepted`'s answers by (the entry's unit sets, the units sent): a monitor sends
    the same few units in every message (the listener read each one anew: issue 17)."""
    row_plans: dict[tuple[str, ...], Any] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    """The parser's reading of an OBX's code, units and status with this book, by the text
    sent (`parse._row_plan`; a monitor sends the same rows in every message, only the values
    and times change: issue 17). Not an argument: a book made by `dataclasses.replace`
    starts with none, as its codes may differ."""

    def lookup(self, system: str, code: str) -> CodeEntry | None:
        return self.codes.get((system.upper(), code.lower()))

    def unit_accepted(self, entry: CodeEntry, sent: tuple[str, ...]) -> UnitEntry | None:
        key = (entry.unit, sent)
        try:
            return self._accepted[key]
        except KeyError:
            pass
        found = None
        for name in entry.unit.split("|"):
            unit = self.units[name]
            if any(s and s in unit.accept for s in sent):
                found = unit
                break
        # Bounded: units are short, and what a sender puts there is not ours to keep.
        if len(self._accepted) < UNIT_CACHE_MAX and sum(map(len, sent)) <= UNIT_TEXT_MAX:
            self._accepted[key] = found
        return found

    def is_no_value(self, value: Decimal) -> bool:
        return value in self.no_value


def code_book_from(data: dict[str, Any]) -> CodeBook:
    codes = {
        (str(c["system"]).upper(), str(c["code"]).lower()): CodeEntry(
            system=str(c["system"]).upper(),
            code=str(c["code"]),
            name=str(c["name"]),
            field=str(c["field"]),
            unit=str(c["unit"]),
            kind=str(c["kind"]),
            channel=str(c.get("channel", "")),
            source=str(c["source"]),
        )
        for c in data["codes"]
    }
    units = {
        name: UnitEntry(
            name=name,
            accept=frozenset(str(a) for a in u["accept"]),
            convert=str(u.get("convert", "")),
            source=str(u["source"]),
        )
        for name, u in data["units"].items()
    }
    for entry in codes.values():
        if any(name not in units for name in entry.unit.split("|")):
            raise ValueError(f"code {entry.code}: unknown unit {entry.unit!r}")
    tenths = data["tenths"]
    return CodeBook(
        codes=codes,
        units=units,
        no_value=frozenset(Decimal(v) for v in data["no_value"]["values"]),
        tenths_fields=frozenset(tenths["fields"]),
        tenths_low=Decimal(str(tenths["plausible_low"])),
        tenths_high=Decimal(str(tenths["plausible_high"])),
        heart_rate_priority=tuple(data["fields"]["heart_rate_bpm"]["priority"]),
    )


@functools.cache
def default_code_book() -> CodeBook:
    """The shipped code book (`data/codes.json`)."""
    text = (
        resources.files("ketaclinic.monitors.feed").joinpath("data/codes.json").read_text("utf-8")
    )
    return code_book_from(json.loads(text))
