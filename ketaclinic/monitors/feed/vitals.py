"""A parsed message's readings grouped into the sets the chart stores.

The periodic values (heart rate, SpO2, respiratory rate) at the observation time; the last
NIBP at its own time (OBX-14), so that a cuff taken at 10:12 is charted at 10:12 even when it
rides in the 10:15 message. Each set has a key: the periodic one the message's control id (a
resent message is charted once), the NIBP one its own time (the same cuff repeated in every
periodic message is charted once). Pure: no Django.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from ketaclinic.monitors.feed.codes import CodeBook, default_code_book
from ketaclinic.monitors.feed.parse import ParsedMessage, Reading

CHART_FIELDS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate",
)
NIBP_FIELDS = frozenset({"systolic_mmhg", "diastolic_mmhg"})
_CHARTED = frozenset(CHART_FIELDS)


@dataclass(frozen=True)
class VitalsSet:
    at: datetime
    kind: str
    """"periodic", "nibp" or "periodic+nibp" (the cuff was taken at the observation time)."""
    values: dict[str, int]
    key: str
    codes: tuple[str, ...]
    """The system:code of each value, for the chart's detail."""


def _rank(reading: Reading, heart_rate_order: dict[str, int]) -> tuple[int, int]:
    """Which of two readings of one field is charted (the lower): a heart rate by the code
    book's channel priority, then by place; anything else by place (OBX-1 order)."""
    if reading.field == "heart_rate_bpm":
        return heart_rate_order.get(reading.channel, len(heart_rate_order)), reading.obx
    return 0, reading.obx


@functools.cache
def _heart_rate_order(priority: tuple[str, ...]) -> dict[str, int]:
    return {channel: i for i, channel in enumerate(priority)}


def vitals_sets(parsed: ParsedMessage, book: CodeBook | None = None) -> list[VitalsSet]:
    """The chartable sets in the message, periodic first; empty when nothing is chartable.
    One pass over the readings, each field's charted reading kept as it goes (the
    listener reads every message with it, in its event loop: issue 17)."""
    if parsed.skipped:
        return []
    book = book or default_code_book()
    order = _heart_rate_order(book.heart_rate_priority)
    chosen: dict[str, Reading] = {}
    for reading in parsed.readings:
        name = reading.field
        if name not in _CHARTED:
            continue
        kept = chosen.get(name)
        if kept is None or _rank(reading, order) < _rank(kept, order):
            chosen[name] = reading
    if not chosen:
        return []
    observed = _at(parsed.observed_at)
    periodic_set: dict[str, Reading] = {}
    cuff_set: dict[str, Reading] = {}
    for name, reading in chosen.items():
        (cuff_set if name in NIBP_FIELDS else periodic_set)[name] = reading
    cuff_at = min([_at(r.at) for r in cuff_set.values()], default=None)
    if cuff_at is not None and cuff_at == observed:
        periodic_set.update(cuff_set)
        cuff_set = {}
    sets: list[VitalsSet] = []
    if periodic_set:
        kind = "periodic" if NIBP_FIELDS.isdisjoint(periodic_set) else "periodic+nibp"
        sets.append(_set(observed, kind, periodic_set, parsed.header.control_id))
    if cuff_set and cuff_at is not None:
        sets.append(_set(cuff_at, "nibp", cuff_set, f"nibp:{cuff_at:%Y%m%dT%H%M%S}"))
    return sets


@functools.lru_cache(maxsize=1024)
def _at(text: str) -> datetime:
    """An ISO time (cached: the observation time is shared by the monitors' messages of a
    second, the cuff's repeats in message after message)."""
    return datetime.fromisoformat(text)


def _set(at: datetime, kind: str, rows: dict[str, Reading], key: str) -> VitalsSet:
    ordered = sorted(rows.items())
    return VitalsSet(
        at,
        kind,
        # A chart field's value is a whole number's text (`parse`): int() is exact.
        {n: int(r.value) for n, r in ordered},
        key,
        tuple([f"{r.system}:{r.code}" for _, r in ordered]),
    )
