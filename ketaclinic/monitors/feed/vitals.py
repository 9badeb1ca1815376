"""A parsed message's readings grouped into the sets the chart stores.

The periodic values (heart rate, SpO2, respiratory rate) at the observation time; the last
NIBP at its own time (OBX-14), so that a cuff taken at 10:12 is charted at 10:12 even when it
rides in the 10:15 message. Each set has a key: the periodic one the message's control id (a
resent message is charted once), the NIBP one its own time (the same cuff repeated in every
periodic message is charted once). Pure: no Django.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class VitalsSet:
    at: datetime
    kind: str
    """"periodic", "nibp" or "periodic+nibp" (the cuff was taken at the observation time)."""
    values: dict[str, int]
    key: str
    codes: tuple[str, ...]
    """The system:code of each value, for the chart's detail."""


def _pick(readings: list[Reading], priority: tuple[str, ...]) -> Reading | None:
    if not readings:
        return None
    order = {channel: i for i, channel in enumerate(priority)}
    return min(readings, key=lambda r: (order.get(r.channel, len(order)), r.obx))


def vitals_sets(parsed: ParsedMessage, book: CodeBook | None = None) -> list[VitalsSet]:
    """The chartable sets in the message, periodic first; empty when nothing is chartable."""
    book = book or default_code_book()
    if parsed.skipped:
        return []
    periodic: dict[str, list[Reading]] = {}
    nibp: dict[str, list[Reading]] = {}
    for reading in parsed.readings:
        if reading.field not in CHART_FIELDS:
            continue
        target = nibp if reading.field in NIBP_FIELDS else periodic
        target.setdefault(reading.field, []).append(reading)
    observed = datetime.fromisoformat(parsed.observed_at)
    sets: list[VitalsSet] = []
    chosen = {
        name: _pick(rows, book.heart_rate_priority if name == "heart_rate_bpm" else ())
        for name, rows in periodic.items()
    }
    cuff = {name: _pick(rows, ()) for name, rows in nibp.items()}
    cuff_at = min((datetime.fromisoformat(r.at) for r in cuff.values() if r), default=None)
    periodic_set = {n: r for n, r in chosen.items() if r is not None}
    cuff_set = {n: r for n, r in cuff.items() if r is not None}
    if cuff_at is not None and cuff_at == observed:
        periodic_set.update(cuff_set)
        cuff_set = {}
    if periodic_set:
        sets.append(_set(observed, "periodic", periodic_set, parsed.header.control_id))
        if any(n in NIBP_FIELDS for n in periodic_set):
            sets[-1] = _set(observed, "periodic+nibp", periodic_set, parsed.header.control_id)
    if cuff_set and cuff_at is not None:
        sets.append(_set(cuff_at, "nibp", cuff_set, f"nibp:{cuff_at:%Y%m%dT%H%M%S}"))
    return sets


def _set(at: datetime, kind: str, rows: dict[str, Reading], key: str) -> VitalsSet:
    return VitalsSet(
        at=at,
        kind=kind,
        # A chart field's value is a whole number's text (`parse`): int() is exact.
        values={n: int(r.value) for n, r in sorted(rows.items())},
        key=key,
        codes=tuple(f"{r.system}:{r.code}" for _, r in sorted(rows.items())),
    )
