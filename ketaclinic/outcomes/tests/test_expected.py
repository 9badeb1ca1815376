"""Expected curves and their band: a synthetic cohort with known parameters (generated here)
is fitted with MixedLM; the band holds about 90 % of new on-track courses at the check infusion
and flags a course simulated above it. No database."""

from __future__ import annotations

import math
import random

import pytest

from ketaclinic.outcomes.rules.expected import (
    Curve,
    check,
    check_infusion_default,
    published_curve,
)
from ketaclinic.outcomes.rules.mixed import FitFailed, fit_mixed

# The generating model: score = 2 - 3 log(n) + 0.8 baseline + u0 + u1 log(n) + e
TRUE = {"b0": 2.0, "b1": -3.0, "b2": 0.8, "sd_u0": 1.5, "sd_u1": 0.8, "sd_e": 1.5}
CHECK = 4


def _course(rng: random.Random, baseline: int, infusions: int = 6) -> list[tuple[int, int]]:
    u0 = rng.gauss(0, TRUE["sd_u0"])
    u1 = rng.gauss(0, TRUE["sd_u1"])
    rows = []
    for n in range(1, infusions + 1):
        x = math.log(n)
        mu = TRUE["b0"] + TRUE["b1"] * x + TRUE["b2"] * baseline + u0 + u1 * x
        rows.append((n, round(mu + rng.gauss(0, TRUE["sd_e"]))))
    return rows


def _cohort(rng: random.Random, courses: int) -> list[tuple[str, int, int, int]]:
    rows = []
    for c in range(courses):
        baseline = rng.randint(10, 21)
        rows += [(f"c{c}", n, baseline, s) for n, s in _course(rng, baseline)]
    return rows


@pytest.fixture(scope="module")
def fitted() -> Curve:
    rng = random.Random(2014)  # noqa: S311  synthetic data
    curve = fit_mixed(_cohort(rng, 300), label="clinic mixed model", min_courses=100)
    assert isinstance(curve, Curve), curve
    return curve


def test_fit_recovers_the_fixed_effects(fitted: Curve) -> None:
    assert fitted.source == "mixedlm"
    assert fitted.n_courses == 300
    assert fitted.intercept == pytest.approx(TRUE["b0"], abs=1.0)
    assert fitted.slope == pytest.approx(TRUE["b1"], abs=0.4)
    assert fitted.baseline_coef == pytest.approx(TRUE["b2"], abs=0.08)
    assert fitted.residual == pytest.approx(TRUE["sd_e"] ** 2, rel=0.3)


def test_band_holds_about_ninety_percent_of_on_track_courses(fitted: Curve) -> None:
    rng = random.Random(4)  # noqa: S311  synthetic data
    inside = 0
    trials = 2000
    for _ in range(trials):
        baseline = rng.randint(10, 21)
        score = dict(_course(rng, baseline))[CHECK]
        lower, _, upper = fitted.band(baseline, CHECK)
        inside += lower <= score <= upper
    assert 0.86 <= inside / trials <= 0.94


def test_band_uses_the_random_effects_not_only_the_residual(fitted: Curve) -> None:
    residual_only = Curve(**{**fitted.__dict__, "cov_re": ((0.0, 0.0), (0.0, 0.0))})
    assert fitted.sd(15, CHECK) > residual_only.sd(15, CHECK)


def test_a_course_below_the_expected_improvement_is_flagged(fitted: Curve) -> None:
    # baseline 18, no improvement at all: 18 after infusion 4 (expected about 12.2)
    verdict = check(fitted, baseline=18, infusion=CHECK, score=18, measure="GAD-7")
    assert not verdict.on_track
    assert "above the expected band" in verdict.reason and "clinic mixed model" in verdict.reason
    on_track = check(fitted, baseline=18, infusion=CHECK, score=12, measure="GAD-7")
    assert on_track.on_track


def test_simulated_courses_below_the_curve_are_flagged(fitted: Curve) -> None:
    """Courses simulated without any improvement (the score at the check infusion is the
    baseline plus measurement noise) are flagged most of the time; courses simulated from the
    fitted model's own generating process only about 5 % of the time (above a two-sided 90 %
    band)."""
    rng = random.Random(7)  # noqa: S311  synthetic data
    flagged_off = flagged_on = 0
    trials = 1000
    for _ in range(trials):
        baseline = rng.randint(10, 21)
        stuck = baseline + rng.gauss(0, TRUE["sd_e"])
        flagged_off += not check(
            fitted, baseline=baseline, infusion=CHECK, score=round(stuck), measure="GAD-7"
        ).on_track
        on_score = dict(_course(rng, baseline))[CHECK]
        flagged_on += not check(
            fitted, baseline=baseline, infusion=CHECK, score=on_score, measure="GAD-7"
        ).on_track
    assert flagged_off / trials >= 0.6
    assert flagged_on / trials <= 0.1


def test_too_few_courses_keeps_the_previous_curve() -> None:
    rng = random.Random(1)  # noqa: S311  synthetic data
    result = fit_mixed(_cohort(rng, 20), label="x", min_courses=100)
    assert isinstance(result, FitFailed)
    assert "fewer than the 100" in result.reason


def test_a_degenerate_fit_fails_with_a_reason() -> None:
    # every course identical and constant: no variance to estimate
    rows = [(f"c{c}", n, 15, 10) for c in range(120) for n in range(1, 7)]
    result = fit_mixed(rows, label="x", min_courses=100)
    assert isinstance(result, FitFailed)


def test_published_curve_reaches_the_published_mean_fall() -> None:
    curve = published_curve("gad7")
    assert curve is not None and curve.source == "published"
    # Oliver 2022: GAD-7 fell 30 % by infusion 6
    assert curve.expected(20, 6) == pytest.approx(14.0)
    assert curve.expected(20, 1) == pytest.approx(20.0)
    lower, mu, upper = curve.band(20, 4)
    assert lower < mu < upper
    assert published_curve("spin") is None
    assert check_infusion_default() == 4
