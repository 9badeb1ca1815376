"""Fitting the clinic's own expected curve: statsmodels MixedLM, score ~ log(infusion) +
baseline, with a random intercept and a random slope on log(infusion) per course.

Pure (no Django): rows in, a ``Curve`` out, or a ``FitFailed`` saying why (too few courses, an
error, or no convergence), so that the caller keeps the previous curve and says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.outcomes.rules.expected import Z_90, Curve


@dataclass(frozen=True)
class FitFailed:
    reason: str


def fit_mixed(
    rows: Iterable[tuple[str, int, int, int]], *, label: str, min_courses: int
) -> Curve | FitFailed:
    """Fit on (course id, infusion number, baseline, score) rows."""
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    frame = pd.DataFrame(list(rows), columns=["course", "infusion", "baseline", "score"])
    courses = int(frame["course"].nunique()) if len(frame) else 0
    if courses < min_courses:
        return FitFailed(f"{courses} completed inductions, fewer than the {min_courses} needed")
    frame["log_infusion"] = [math.log(n) for n in frame["infusion"]]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = smf.mixedlm(
                "score ~ log_infusion + baseline",
                frame,
                groups=frame["course"],
                re_formula="~log_infusion",
            )
            result = model.fit(reml=True, method=["lbfgs"])
    except Exception as exc:  # any failure keeps the previous curve; the reason is shown
        return FitFailed(f"the fit failed: {type(exc).__name__}: {exc}"[:300])
    if not result.converged or any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return FitFailed("the fit did not converge")
    fe = result.fe_params
    cov = result.cov_re.to_numpy()
    values = [float(fe["Intercept"]), float(fe["log_infusion"]), float(fe["baseline"])]
    values += [float(v) for v in cov.flatten()] + [float(result.scale)]
    if not all(math.isfinite(v) for v in values):
        return FitFailed("the fit gave non-finite estimates")
    return Curve(
        source="mixedlm",
        label=label,
        intercept=float(fe["Intercept"]),
        slope=float(fe["log_infusion"]),
        baseline_coef=float(fe["baseline"]),
        interaction=0.0,
        cov_re=((float(cov[0][0]), float(cov[0][1])), (float(cov[1][0]), float(cov[1][1]))),
        residual=float(result.scale),
        z=Z_90,
        n_courses=courses,
    )
