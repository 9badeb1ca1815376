"""Published results to show beside the clinic's figures, as versioned data with citations.

A figure is matched on measure; its timepoint and definition are compared with the clinic's and
every difference is said in words (never a bare "better" or "worse").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class PublishedFigure:
    key: str
    study: str
    citation: str
    measure: str
    timepoint: str
    definition: str
    population: str
    protocol: str
    treated: int | None
    analysable: int | None
    response_percent: float | None
    remission_percent: float | None
    mean_fall_percent: float | None
    effect_size_d: float | None
    differences: str


@dataclass(frozen=True)
class Comparison:
    figure: PublishedFigure
    timepoint_matched: bool
    notes: tuple[str, ...]


@dataclass(frozen=True)
class PublishedSet:
    label: str
    figures: tuple[PublishedFigure, ...]
    durability: tuple[dict[str, Any], ...]


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def published_from_dict(data: dict[str, Any]) -> PublishedSet:
    figures = tuple(
        PublishedFigure(
            key=str(f["key"]),
            study=str(f["study"]),
            citation=str(f["citation"]),
            measure=str(f["measure"]),
            timepoint=str(f["timepoint"]),
            definition=str(f["definition"]),
            population=str(f["population"]),
            protocol=str(f["protocol"]),
            treated=_opt_int(f.get("treated")),
            analysable=_opt_int(f.get("analysable")),
            response_percent=_opt_float(f.get("response_percent")),
            remission_percent=_opt_float(f.get("remission_percent")),
            mean_fall_percent=_opt_float(f.get("mean_fall_percent")),
            effect_size_d=_opt_float(f.get("effect_size_d")),
            differences=str(f["differences"]),
        )
        for f in data["figures"]
    )
    return PublishedSet(
        label=f"{data['id']} v{data['version']}",
        figures=figures,
        durability=tuple(data.get("durability", [])),
    )


def shipped_published() -> PublishedSet:
    text = resources.files(__package__).joinpath("data/published-v1.json").read_text("utf-8")
    return published_from_dict(json.loads(text))


def comparisons(
    published: PublishedSet, *, measure: str, timepoint: str, clinic_population: str
) -> list[Comparison]:
    """The published figures on the same measure, timepoint-matched ones first and rates
    before other kinds of figure, each with the differences from the clinic's figure stated."""
    found: list[Comparison] = []
    for figure in published.figures:
        if figure.measure != measure:
            continue
        notes: list[str] = []
        matched = figure.timepoint == timepoint
        if not matched:
            notes.append(
                f"Timepoint differs: the study's is {timepoint_text(figure.timepoint)}, "
                f"this table's is {timepoint_text(timepoint)}."
            )
        notes.append(f"Population: {figure.population}; here: {clinic_population}.")
        notes.append(f"Protocol: {figure.protocol}.")
        if figure.analysable is not None and figure.treated:
            share = round(100 * figure.analysable / figure.treated)
            notes.append(
                f"Analysable: {figure.analysable} of {figure.treated} treated ({share}%): "
                "a completers' rate."
            )
        notes.append(figure.differences + ".")
        found.append(Comparison(figure, matched, tuple(notes)))
    found.sort(
        key=lambda c: (not c.timepoint_matched, c.figure.response_percent is None, c.figure.study)
    )
    return found


def timepoint_text(code: str) -> str:
    if code.startswith("infusion:"):
        return f"after infusion {code.split(':', 1)[1]}"
    return {
        "post_induction": "14-31 days after the last induction infusion",
        "week_6": "6 weeks after the first infusion",
        "latest": "the latest score",
    }.get(code, code)
