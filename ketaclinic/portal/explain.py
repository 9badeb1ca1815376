"""A patient's own scores in plain words: what each questionnaire measures, where the latest
answer falls, and how it compares with the score before treatment began. Only the
questionnaires the patient answers themselves; the words come from the instrument data
(bands, range), nothing here is a clinical threshold of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ketaclinic.scales.instruments import translations
from ketaclinic.scales.trends import InstrumentTrend

# What each self-report questionnaire asks about, in plain words (the instruments' own
# recall periods are in their definitions; these sentences add no number).
ABOUT: dict[str, str | Promise] = {
    "gad7": gettext_lazy("how much worry and anxiety bothered you over the last two weeks"),
    "phq9": gettext_lazy("how low your mood was, and related problems, over the last two weeks"),
    "spin": gettext_lazy(
        "how much fear and avoidance of social situations you had over the last week"
    ),
    "lsas": gettext_lazy(
        "how much fear and avoidance of social situations you had over the last week"
    ),
    "ocir": gettext_lazy("how much obsessions and compulsions bothered you over the last month"),
    "pdss_sr": gettext_lazy(
        "how much panic attacks and the fear of them affected you over the last week"
    ),
}
ABOUT_ANY = gettext_lazy("how much your symptoms bothered you")

# The self-report instruments' band labels (their definitions' words) in the patient's language.
BAND_WORDS: dict[str, Promise] = {
    "minimal": gettext_lazy("minimal"),
    "mild": gettext_lazy("mild"),
    "moderate": gettext_lazy("moderate"),
    "moderately severe": gettext_lazy("moderately severe"),
    "severe": gettext_lazy("severe"),
    "very severe": gettext_lazy("very severe"),
    "none-minimal": gettext_lazy("none-minimal"),
    "none or very mild": gettext_lazy("none or very mild"),
    "normal": gettext_lazy("normal"),
    "borderline ill": gettext_lazy("borderline ill"),
    "slightly ill": gettext_lazy("slightly ill"),
    "moderately ill": gettext_lazy("moderately ill"),
    "markedly ill": gettext_lazy("markedly ill"),
    "below the social anxiety disorder cut-off": gettext_lazy(
        "below the social anxiety disorder cut-off"
    ),
    "social anxiety disorder likely": gettext_lazy("social anxiety disorder likely"),
    "generalized social anxiety disorder likely": gettext_lazy(
        "generalized social anxiety disorder likely"
    ),
}


def band_words(label: str) -> str:
    return str(BAND_WORDS.get(label, label))


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
            return band_words(band.label)
    return ""


def _change(baseline: Point | None, latest: Point | None) -> str:
    if baseline is None or latest is None or baseline.at == latest.at:
        return ""
    numbers = {"before": baseline.total, "now": latest.total}
    if latest.total < baseline.total:
        return (
            _(
                "Before your treatment began your score was %(before)s; now it is %(now)s, "
                "which is lower: fewer symptoms."
            )
            % numbers
        )
    if latest.total > baseline.total:
        return (
            _(
                "Before your treatment began your score was %(before)s; now it is %(now)s, "
                "which is higher. Scores go up and down; talk about it with your care team."
            )
            % numbers
        )
    return _("Your score is the same as before your treatment began (%(before)s).") % numbers


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
        name=translations.display_name(instrument, get_language()),
        about=str(ABOUT.get(instrument.code, ABOUT_ANY)),
        low=instrument.scoring.min_total,
        high=instrument.scoring.max_total,
        points=points,
        latest=latest,
        baseline=baseline,
        change=_change(baseline, latest),
        bands=[(band.low, band.high, band_words(band.label)) for band in instrument.bands],
    )


def self_reported(trends: list[InstrumentTrend]) -> list[TrendInWords]:
    """The questionnaires the patient answers themselves, in words."""
    return [trend_in_words(t) for t in trends if "self" in t.instrument.respondents]
