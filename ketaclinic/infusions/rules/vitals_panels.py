"""The vital-signs plot as panels, one per scale, with the protocol's thresholds drawn in each
and one time axis shared by all: what the chart page (Chart.js) and the printed record (a PDF
drawing) both plot. Pure (no Django).

One shared 0-200 axis made SpO2 91 against 92 and MOAA/S unreadable; each panel here spans its
own scale, widened to hold every reading and threshold. The time axis never collapses: with no
reading it spans the half hour around `now`, with one it is centred on it, so a plot library is
never left to guess (Chart.js guessed 0..1 ms after 1970, printed "12:00 AM")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MINUTE_MS = 60_000
MIN_SPAN_MS = 30 * MINUTE_MS
"""The shortest time axis: half an hour, a few readings' worth at the usual 5-15 min interval."""
PAD_FRACTION = 0.05


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    unit: str
    fields: tuple[tuple[str, str], ...]
    """(vital field, its label) drawn in this panel."""
    low: int
    high: int
    """The scale's usual span, widened when a reading or threshold lies outside it."""
    step: int | None = None
    """A whole-number scale (MOAA/S) has ticks at every step."""


PANELS = (
    PanelSpec(
        "bp_hr",
        "Blood pressure and heart rate",
        "mmHg, beats/min",
        (
            ("systolic_mmhg", "Systolic (mmHg)"),
            ("diastolic_mmhg", "Diastolic (mmHg)"),
            ("heart_rate_bpm", "Heart rate (/min)"),
        ),
        40,
        200,
    ),
    PanelSpec("spo2", "Oxygen saturation", "SpO2 %", (("spo2_percent", "SpO2 (%)"),), 85, 100),
    PanelSpec(
        "rr", "Respiratory rate", "breaths/min", (("respiratory_rate", "Resp. rate (/min)"),), 0, 30
    ),
    PanelSpec("moaas", "Sedation", "MOAA/S 0-5", (("moaas", "MOAA/S"),), 0, 5, step=1),
)

COMPARATOR_SIGNS = {">=": "\u2265", ">": ">", "<=": "\u2264", "<": "<"}
FIELD_SHORT = {
    "systolic_mmhg": "systolic",
    "diastolic_mmhg": "diastolic",
    "heart_rate_bpm": "HR",
    "spo2_percent": "SpO2",
    "respiratory_rate": "RR",
    "moaas": "MOAA/S",
}


@dataclass(frozen=True)
class ThresholdLine:
    field: str
    comparator: str
    value: int
    predose: bool
    """A pre-dose hold (before the start) rather than an alert during the session."""

    @property
    def label(self) -> str:
        """Short, to sit on the line: "alert: systolic \u2265 180", "hold before dose: ..."."""
        kind = "hold before dose" if self.predose else "alert"
        sign = COMPARATOR_SIGNS.get(self.comparator, self.comparator)
        return f"{kind}: {FIELD_SHORT.get(self.field, self.field)} {sign} {self.value}"


TICK_STEPS_MINUTES = (5, 10, 15, 30, 60, 120)
MAX_TICKS = 8


def time_axis(moments_ms: Iterable[int], *, now_ms: int) -> tuple[int, int, int]:
    """The time axis's start, end and tick step in ms: every moment inside, at least
    MIN_SPAN_MS wide, start before end, both on a whole tick (5, 10, 15, 30 min, ...) so that
    the labels read 14:05, 14:10 rather than 14:03, 14:11. With no moment: the half hour up
    to a little after `now`; with one, the half hour around it."""
    moments = sorted(moments_ms)
    if not moments:
        low, high = now_ms - MIN_SPAN_MS + 5 * MINUTE_MS, now_ms + 5 * MINUTE_MS
    else:
        low, high = moments[0], moments[-1]
        if high - low < MIN_SPAN_MS:
            middle = (low + high) // 2
            low, high = middle - MIN_SPAN_MS // 2, middle + MIN_SPAN_MS // 2
        pad = int((high - low) * PAD_FRACTION)
        low, high = low - pad, high + pad
    step = next(
        (m * MINUTE_MS for m in TICK_STEPS_MINUTES if (high - low) / (m * MINUTE_MS) <= MAX_TICKS),
        TICK_STEPS_MINUTES[-1] * MINUTE_MS,
    )
    start = low - low % step
    end = high if high % step == 0 else high - high % step + step
    return start, end, step


def value_axis(spec: PanelSpec, values: Iterable[int]) -> tuple[int, int]:
    """The panel's [low, high]: its usual span, widened to every value (readings, thresholds)."""
    seen = list(values)
    low = min([spec.low, *seen])
    high = max([spec.high, *seen])
    if spec.step is None and (low < spec.low or high > spec.high):
        margin = max(2, (high - low) // 20)
        low = max(0, low - margin) if low < spec.low else low
        high = high + margin if high > spec.high else high
    return low, high


def panels(
    readings: Sequence[Mapping[str, Any]],
    thresholds: Sequence[ThresholdLine],
    *,
    at_ms: Mapping[int, int],
) -> list[dict[str, Any]]:
    """Each panel's series (points {x: ms, y}), its threshold lines and its value axis.
    `at_ms` maps a reading's index to its time in ms."""
    result = []
    for spec in PANELS:
        fields = {name for name, _ in spec.fields}
        series: list[dict[str, Any]] = []
        values: list[int] = []
        for name, label in spec.fields:
            points = [
                {"x": at_ms[i], "y": int(r[name])}
                for i, r in enumerate(readings)
                if r.get(name) is not None
            ]
            values += [int(p["y"]) for p in points]
            series.append({"field": name, "label": label, "points": points})
        lines = [t for t in thresholds if t.field in fields]
        values += [t.value for t in lines]
        low, high = value_axis(spec, values)
        result.append(
            {
                "key": spec.key,
                "title": spec.title,
                "unit": spec.unit,
                "y_min": low,
                "y_max": high,
                "step": spec.step,
                "series": series,
                "thresholds": [
                    {"field": t.field, "value": t.value, "label": t.label, "predose": t.predose}
                    for t in lines
                ],
                "count": sum(len(s["points"]) for s in series),
            }
        )
    return result
