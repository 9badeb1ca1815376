"""Safety figures per session and per dose band, pure: the peak blood-pressure rise over the
pre-infusion baseline, the peak dissociation score, whether an infusion stopped before its
planned minutes, and their summaries by mg/kg dose band.

The dose bands and the early-stop margin are versioned data with their sources
(``data/safety-v1.json``). Summaries are built from counts of integer values (a histogram per
band), so memory stays bounded by the range of the values, whatever the number of sessions;
quartiles are computed from the counts exactly as SQL's ``percentile_cont`` would.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

NOT_WEIGHT_BASED = "fixed"
NOT_WEIGHT_BASED_LABEL = "fixed dose (not by weight)"
NO_DOSE = "no_dose"
NO_DOSE_LABEL = "no dose charted"


@dataclass(frozen=True)
class DoseBand:
    code: str
    label: str
    low: Decimal | None  # inclusive; None is no lower bound
    below: Decimal | None  # exclusive; None is no upper bound

    def contains(self, mg_per_kg: Decimal) -> bool:
        return (self.low is None or mg_per_kg >= self.low) and (
            self.below is None or mg_per_kg < self.below
        )


@dataclass(frozen=True)
class SafetyDefinitions:
    id: str
    version: int
    dose_bands: tuple[DoseBand, ...]
    dose_bands_source: str
    early_stop_margin_minutes: int
    early_stop_source: str

    @property
    def label(self) -> str:
        return f"{self.id} v{self.version}"

    def band_label(self, code: str) -> str:
        if code == NOT_WEIGHT_BASED:
            return NOT_WEIGHT_BASED_LABEL
        if code == NO_DOSE:
            return NO_DOSE_LABEL
        return next(b.label for b in self.dose_bands if b.code == code)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def safety_definitions_from_dict(data: Mapping[str, Any]) -> SafetyDefinitions:
    bands = tuple(
        DoseBand(
            code=str(b["code"]),
            label=str(b["label"]),
            low=_decimal(b.get("from")),
            below=_decimal(b.get("below")),
        )
        for b in data["dose_bands_mg_per_kg"]
    )
    return SafetyDefinitions(
        id=str(data["id"]),
        version=int(data["version"]),
        dose_bands=bands,
        dose_bands_source=str(data["dose_bands_source"]),
        early_stop_margin_minutes=int(data["early_stop_margin_minutes"]),
        early_stop_source=str(data["early_stop_source"]),
    )


@cache
def shipped_safety() -> SafetyDefinitions:
    text = resources.files(__package__).joinpath("data/safety-v1.json").read_text("utf-8")
    return safety_definitions_from_dict(json.loads(text))


def dose_band(
    mg_per_kg: Decimal | None, bands: Sequence[DoseBand], *, weight_based: bool = True
) -> str:
    """The code of the band a weight-based dose falls in; ``fixed`` for a protocol not dosed by
    weight; ``no_dose`` for a weight-based session without a dose charted."""
    if not weight_based:
        return NOT_WEIGHT_BASED
    if mg_per_kg is None:
        return NO_DOSE
    for band in bands:
        if band.contains(mg_per_kg):
            return band.code
    raise ValueError(f"{mg_per_kg} mg/kg is in no dose band")


def peak_rise(baseline: int | None, during: Iterable[int | None]) -> int | None:
    """The highest value during the infusion and recovery minus the pre-infusion baseline
    (negative when it never rose); None without a baseline or without a value during."""
    values = [v for v in during if v is not None]
    if baseline is None or not values:
        return None
    return max(values) - baseline


def infused_minutes(
    start: datetime, stop: datetime, pauses: Sequence[tuple[datetime, datetime | None]] = ()
) -> float:
    """Minutes from the start to the stop of the infusion, less the time it was paused (a pause
    never resumed lasts until the stop)."""
    paused = timedelta()
    for began, ended in pauses:
        began = max(began, start)
        ended = stop if ended is None else min(ended, stop)
        if ended > began:
            paused += ended - began
    return (stop - start - paused).total_seconds() / 60


def stopped_early(
    *,
    planned_minutes: int | None,
    start: datetime | None,
    stop: datetime | None,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
    margin_minutes: int,
) -> bool | None:
    """Whether the infusion stopped before its planned minutes (by more than the margin); None
    when it cannot be told: no planned duration (a nasal dose), or no start or stop charted."""
    if planned_minutes is None or start is None or stop is None:
        return None
    return infused_minutes(start, stop, pauses) < planned_minutes - margin_minutes


def percentile_of_counts(counts: Mapping[int, int], fraction: float) -> float | None:
    """``percentile_cont`` of the values a histogram ({value: how many}) stands for."""
    total = sum(counts.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    lower_rank = int(position)
    upper_rank = lower_rank + (1 if position > lower_rank else 0)
    lower = upper = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if lower is None and lower_rank < seen:
            lower = value
        if upper_rank < seen:
            upper = value
            break
    assert lower is not None and upper is not None
    return lower + (upper - lower) * (position - lower_rank)


@dataclass(frozen=True)
class Spread:
    """How many values, their quartiles and maximum."""

    n: int
    q1: float | None
    median: float | None
    q3: float | None
    maximum: int | None


def spread(counts: Mapping[int, int]) -> Spread:
    present = {v: c for v, c in counts.items() if c > 0}
    return Spread(
        n=sum(present.values()),
        q1=percentile_of_counts(present, 0.25),
        median=percentile_of_counts(present, 0.5),
        q3=percentile_of_counts(present, 0.75),
        maximum=max(present) if present else None,
    )


@dataclass(frozen=True)
class SessionSafety:
    """One session's figures: its dose (mg/kg; None when not charted or not by weight), peak
    rises over its baseline and peak dissociation score per instrument."""

    mg_per_kg: Decimal | None
    systolic_rise: int | None
    diastolic_rise: int | None
    dissociation: Mapping[str, int] = field(default_factory=dict)
    weight_based: bool = True


@dataclass(frozen=True)
class DoseBandRow:
    band: str
    label: str
    sessions: int
    systolic_rise: Spread
    diastolic_rise: Spread
    dissociation: dict[str, Spread]  # instrument code -> peak scores


@dataclass
class BandTally:
    """A dose band's sessions and the histograms ({value: how many}) of their peak rises and
    peak dissociation scores: what the database's grouped counts give, or a tally of
    sessions."""

    sessions: int = 0
    systolic: Counter[int] = field(default_factory=Counter)
    diastolic: Counter[int] = field(default_factory=Counter)
    dissociation: dict[str, Counter[int]] = field(default_factory=dict)


def band_order(definitions: SafetyDefinitions) -> list[str]:
    """The bands in the order they are shown: by dose, then fixed doses, then no dose charted."""
    return [b.code for b in definitions.dose_bands] + [NOT_WEIGHT_BASED, NO_DOSE]


def band_rows(
    tallies: Mapping[str, BandTally], definitions: SafetyDefinitions, instruments: Sequence[str]
) -> list[DoseBandRow]:
    """One row per dose band that has sessions, in the bands' order, with the spread of each
    value among the sessions that have it (each its own denominator, ``Spread.n``)."""
    unknown = set(tallies) - set(band_order(definitions))
    if unknown:
        raise ValueError(f"no such dose band: {sorted(unknown)}")
    return [
        DoseBandRow(
            band=code,
            label=definitions.band_label(code),
            sessions=tallies[code].sessions,
            systolic_rise=spread(tallies[code].systolic),
            diastolic_rise=spread(tallies[code].diastolic),
            dissociation={
                i: spread(tallies[code].dissociation.get(i, Counter())) for i in instruments
            },
        )
        for code in band_order(definitions)
        if code in tallies and tallies[code].sessions > 0
    ]


def by_dose_band(
    sessions: Iterable[SessionSafety], definitions: SafetyDefinitions, instruments: Sequence[str]
) -> list[DoseBandRow]:
    """One row per dose band that has sessions, in the bands' order (fixed doses, then those
    without a dose charted, last): how
    many sessions, and the spread of the peak rises and peak dissociation scores among those
    that have them (each its own denominator, ``Spread.n``). Scores of different instruments
    are never mixed."""
    tallies: dict[str, BandTally] = {}
    for s in sessions:
        band = dose_band(s.mg_per_kg, definitions.dose_bands, weight_based=s.weight_based)
        tally = tallies.setdefault(band, BandTally())
        tally.sessions += 1
        if s.systolic_rise is not None:
            tally.systolic[s.systolic_rise] += 1
        if s.diastolic_rise is not None:
            tally.diastolic[s.diastolic_rise] += 1
        for instrument, score in s.dissociation.items():
            tally.dissociation.setdefault(instrument, Counter())[score] += 1
    return band_rows(tallies, definitions, instruments)


def per_100(count: int, sessions: int) -> float | None:
    """A count per 100 sessions, to one decimal; None with no sessions."""
    return None if sessions == 0 else round(100 * count / sessions, 1)
