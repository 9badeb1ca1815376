"""Outcome rules, pure (no Django): definitions as versioned data, one course's outcome on one
measure, and the statistics the pages show (Wilson intervals, quartiles, Kaplan-Meier)."""

from ketaclinic.outcomes.rules.course import (
    Assessment,
    CourseOutcome,
    Score,
    Status,
    assess,
    baseline_score,
    course_outcome,
)
from ketaclinic.outcomes.rules.definitions import (
    MeasureDefinition,
    OutcomeDefinitions,
    shipped_definitions,
)
from ketaclinic.outcomes.rules.stats import Interval, KMStep, kaplan_meier, wilson

__all__ = [
    "Assessment",
    "CourseOutcome",
    "Interval",
    "KMStep",
    "MeasureDefinition",
    "OutcomeDefinitions",
    "Score",
    "Status",
    "assess",
    "baseline_score",
    "course_outcome",
    "kaplan_meier",
    "shipped_definitions",
    "wilson",
]
