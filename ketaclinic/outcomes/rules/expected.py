"""Expected trajectories and their tolerance band, for not-on-track alerts.

A curve gives, for a course's baseline and an infusion number n, the expected score

    mu = intercept + slope * log(n) + baseline_coef * baseline + interaction * baseline * log(n)

and a band mu +- z * sd. For a clinic-fitted mixed model (score ~ log(n) + baseline, random
intercept and slope; Finch, Lambert & Schaalje 2001's method) the variance of a new course's
score is z' cov_re z + residual, with z = (1, log n): the random effects' covariance, not
``predict()``, which gives the fixed effects only (statsmodels docstring; outcomes.md section 3).

Until a protocol x disorder cell has enough completed inductions, the curve is the published
one: a mean fall growing with log(n), reaching the published mean fall at the published
infusion, with a band whose SD is a share of the baseline (both editable defaults, sources in
``data/expected-v1.json``). Scales here are lower-is-better: a score above the band's upper
edge is "below the expected improvement".
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

Z_90 = 1.6448536269514722  # a two-sided 90 % band


@dataclass(frozen=True)
class Curve:
    source: str  # "published" or "mixedlm"
    label: str  # what the page says is in use, with its source
    intercept: float = 0.0
    slope: float = 0.0
    baseline_coef: float = 1.0
    interaction: float = 0.0
    cov_re: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    residual: float = 0.0
    sd_per_baseline: float = 0.0
    z: float = Z_90
    n_courses: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def expected(self, baseline: float, infusion: int) -> float:
        x = math.log(infusion)
        return (
            self.intercept
            + self.slope * x
            + self.baseline_coef * baseline
            + self.interaction * baseline * x
        )

    def sd(self, baseline: float, infusion: int) -> float:
        x = math.log(infusion)
        (a, b), (c, d) = self.cov_re
        random = a + (b + c) * x + d * x * x
        return math.sqrt(max(0.0, random + self.residual + (self.sd_per_baseline * baseline) ** 2))

    def band(self, baseline: float, infusion: int) -> tuple[float, float, float]:
        """(lower, expected, upper) for this baseline at this infusion number."""
        mu = self.expected(baseline, infusion)
        half = self.z * self.sd(baseline, infusion)
        return mu - half, mu, mu + half

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cov_re"] = [list(row) for row in self.cov_re]
        return data


def curve_from_json(data: dict[str, Any]) -> Curve:
    cov = data.get("cov_re", [[0.0, 0.0], [0.0, 0.0]])
    return Curve(
        source=str(data["source"]),
        label=str(data["label"]),
        intercept=float(data.get("intercept", 0.0)),
        slope=float(data.get("slope", 0.0)),
        baseline_coef=float(data.get("baseline_coef", 1.0)),
        interaction=float(data.get("interaction", 0.0)),
        cov_re=((float(cov[0][0]), float(cov[0][1])), (float(cov[1][0]), float(cov[1][1]))),
        residual=float(data.get("residual", 0.0)),
        sd_per_baseline=float(data.get("sd_per_baseline", 0.0)),
        z=float(data.get("z", Z_90)),
        n_courses=int(data.get("n_courses", 0)),
        extra=dict(data.get("extra", {})),
    )


@dataclass(frozen=True)
class Verdict:
    on_track: bool
    score: int
    lower: float
    expected: float
    upper: float
    reason: str


def check(curve: Curve, *, baseline: int, infusion: int, score: int, measure: str) -> Verdict:
    """Whether the score after ``infusion`` is within the band (at or below its upper edge)."""
    lower, mu, upper = curve.band(baseline, infusion)
    on_track = score <= upper
    reason = (
        f"{measure} {score} after infusion {infusion} (baseline {baseline}) is above the "
        f"expected band: expected {mu:.1f}, band up to {upper:.1f} ({curve.label})."
        if not on_track
        else f"{measure} {score} after infusion {infusion} is within the expected band."
    )
    return Verdict(on_track, score, lower, mu, upper, reason)


def published_curve(measure: str) -> Curve | None:
    """The published-figure curve for a measure, or None where the data has none."""
    text = resources.files(__package__).joinpath("data/expected-v1.json").read_text("utf-8")
    data = json.loads(text)
    spec = data["measures"].get(measure)
    if spec is None:
        return None
    # mean fall F at infusion N on a log(n) shape: mu = baseline * (1 - k log n), k = F / log N
    k = float(spec["mean_fall"]) / math.log(int(spec["at_infusion"]))
    return Curve(
        source="published",
        label=f"published curve ({spec['source']}), {data['id']} v{data['version']}",
        baseline_coef=1.0,
        interaction=-k,
        sd_per_baseline=float(spec["sd_per_baseline"]),
        residual=float(spec.get("residual", 0.0)),
    )


def check_infusion_default() -> int:
    text = resources.files(__package__).joinpath("data/expected-v1.json").read_text("utf-8")
    return int(json.loads(text)["check_infusion"])
