"""Small statistics for the outcomes pages: Wilson score intervals, quartiles as PostgreSQL's
``percentile_cont`` computes them, and the Kaplan-Meier estimator with its number at risk."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """The Wilson score interval for a proportion (Wilson 1927); None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def percentile_cont(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as SQL's ``percentile_cont``."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    low_value = float(sorted_values[lower])
    return low_value + (float(sorted_values[upper]) - low_value) * (position - lower)


@dataclass(frozen=True)
class KMStep:
    time: float
    at_risk: int
    events: int
    censored: int
    survival: float


def kaplan_meier(observations: Iterable[tuple[float, bool]]) -> list[KMStep]:
    """Kaplan-Meier estimates at each distinct time, from (time, event) pairs (event False is
    censored). At a tie, events happen before censoring (the usual convention)."""
    rows = sorted(observations)
    at_risk = len(rows)
    survival = 1.0
    steps: list[KMStep] = []
    i = 0
    while i < len(rows):
        time = rows[i][0]
        events = censored = 0
        while i < len(rows) and rows[i][0] == time:
            if rows[i][1]:
                events += 1
            else:
                censored += 1
            i += 1
        if events:
            survival *= 1 - events / at_risk
        steps.append(KMStep(time, at_risk, events, censored, survival))
        at_risk -= events + censored
    return steps


def survival_at(steps: Sequence[KMStep], time: float) -> float:
    """The estimate S(t): the last step at or before ``time`` (1.0 before the first)."""
    value = 1.0
    for step in steps:
        if step.time > time:
            break
        value = step.survival
    return value


def at_risk_at(steps: Sequence[KMStep], time: float) -> int:
    """How many were still followed (no event, not censored) just before ``time``."""
    for step in steps:
        if step.time >= time:
            return step.at_risk
    return 0
