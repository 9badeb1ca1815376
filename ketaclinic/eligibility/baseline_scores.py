"""Baseline scores in an evaluation: each a whole number within its instrument's total range.

The instruments and their ranges are the scales app's definitions (``ketaclinic.scales
.instruments``, each total with its source); nothing here repeats a number. An evaluation takes a
baseline score of any built-in instrument that has a total (not the C-SSRS screener, whose
result is a risk level). Pure Python, no Django import; outside `rules/` because it reads the
scales app's definitions.
"""

from __future__ import annotations

import re
from functools import cache

from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument

_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
_SHORT_NAME = re.compile(r"\(([^()]+)\)$")


@cache
def baseline_score_instruments() -> dict[str, Instrument]:
    """The instruments an evaluation takes a baseline score of, by code, in the scales' order."""
    return {
        code: instrument
        for code, instrument in instruments.load_builtin().items()
        if instrument.scoring.min_total is not None and instrument.scoring.max_total is not None
    }


def instrument_short_name(instrument: Instrument) -> str:
    """ "GAD-7" from "Generalized Anxiety Disorder 7-item scale (GAD-7)"; else the code."""
    match = _SHORT_NAME.search(instrument.name)
    return match.group(1) if match else instrument.code


def baseline_score_range_text(instrument: Instrument) -> str:
    """E.g. "The GAD-7 total is a whole number from 0 to 21." """
    low, high = instrument.scoring.min_total, instrument.scoring.max_total
    return f"The {instrument_short_name(instrument)} total is a whole number from {low} to {high}."


def _score_problem(instrument: Instrument, score: object) -> str | None:
    low, high = instrument.scoring.min_total, instrument.scoring.max_total
    assert low is not None and high is not None  # baseline_score_instruments keeps only these
    if isinstance(score, bool) or not isinstance(score, int):
        return f"{baseline_score_range_text(instrument)} {score!r} is not a whole number."
    if not low <= score <= high:
        return f"{baseline_score_range_text(instrument)} {score} is outside that range."
    return None


def baseline_scores_problems(value: object) -> dict[str, list[str]]:
    """What is wrong with an evaluation's ``baseline_scores``, keyed by JSON path ({} if none).

    ``value`` must be an object of instrument code to total; each code must be an instrument
    with a total, and each total a whole number within that instrument's range.
    """
    if not isinstance(value, dict):
        return {"baseline_scores": ["must be an object of instrument code to score"]}
    known = baseline_score_instruments()
    problems: dict[str, list[str]] = {}
    for code, score in value.items():
        if not isinstance(code, str) or not _CODE.match(code):
            problems.setdefault("baseline_scores", []).append(
                "the instrument code must be a short lowercase code, e.g. gad7"
            )
            continue
        path = f"baseline_scores.{code}"
        instrument = known.get(code)
        if instrument is None:
            problems.setdefault(path, []).append(
                f"not an instrument with a total score; use one of {', '.join(known)}"
            )
            continue
        problem = _score_problem(instrument, score)
        if problem is not None:
            problems.setdefault(path, []).append(problem)
    return problems
