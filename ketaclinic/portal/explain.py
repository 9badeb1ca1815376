"""A patient's own scores in plain words: what each questionnaire measures, where the latest
answer falls, and how it compares with the score before treatment began. Only the
questionnaires the patient answers themselves; the words come from the instrument data
(bands, range), nothing here is a clinical threshold of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ketaclinic.scales.trends import InstrumentTrend

# What each self-report questionnaire asks about, in plain words (the instruments' own
# recall periods are in their definitions; these sentences add no number).
ABOUT: dict[str, str] = {
    "gad7": "how much worry and anxiety bothered you over the last two weeks",
    "phq9": "how low your mood was, and related problems, over the last two weeks",
    "spin": "how much fear and avoidance of social situations you had over the last week",
    "lsas": "how much fear and avoidance of social situations you had over the last week",
    "ocir": "how much obsessions and compulsions bothered you over the last month",
    "pdss_sr": "how much panic attacks and the fear of them affected you over the last week",
}


@dataclass(frozen=True)
class Point:
    at: datetime
    total: int
    band: str


@dataclass(frozen=True)
class TrendInWords:
    code: str
    name: str
    about: str
    low: int | None
    high: int | None
    points: list[Point]
    latest: Point | None
    baseline: Point | None
    change: str
    bands: list[tuple[int, int, str]]
    """The instrument's severity bands (low, high, label), from its definition."""


def _band(trend: InstrumentTrend, total: int) -> str:
    for band in trend.instrument.bands:
        if band.low <= total <= band.high:
            return band.label
    return ""


def _change(baseline: Point | None, latest: Point | None) -> str:
    if baseline is None or latest is None or baseline.at == latest.at:
        return ""
    if latest.total < baseline.total:
        return (
            f"Before your treatment began your score was {baseline.total}; now it is "
            f"{latest.total}, which is lower: fewer symptoms."
        )
    if latest.total > baseline.total:
        return (
            f"Before your treatment began your score was {baseline.total}; now it is "
            f"{latest.total}, which is higher. Scores go up and down; talk about it with "
            "your care team."
        )
    return f"Your score is the same as before your treatment began ({baseline.total})."


def trend_in_words(trend: InstrumentTrend) -> TrendInWords:
    instrument = trend.instrument
    points = [
        Point(a.administered_at, a.total, _band(trend, a.total))
        for a in trend.administrations
        if a.total is not None
    ]
    latest = points[-1] if points else None
    base = trend.baseline
    baseline = (
        Point(base.administered_at, base.total, _band(trend, base.total))
        if base is not None and base.total is not None
        else None
    )
    return TrendInWords(
        code=instrument.code,
        name=instrument.name,
        about=ABOUT.get(instrument.code, "how much your symptoms bothered you"),
        low=instrument.scoring.min_total,
        high=instrument.scoring.max_total,
        points=points,
        latest=latest,
        baseline=baseline,
        change=_change(baseline, latest),
        bands=[(band.low, band.high, band.label) for band in instrument.bands],
    )


def self_reported(trends: list[InstrumentTrend]) -> list[TrendInWords]:
    """The questionnaires the patient answers themselves, in words."""
    return [trend_in_words(t) for t in trends if "self" in t.instrument.respondents]
