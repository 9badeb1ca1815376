"""Reads of the outcomes app: a patient's outcome summary (computed live from the source rows),
the clinic's figures (database aggregates over the computed rows, never every response in memory
at once) and its safety figures. Each checks the role and records the read in the audit trail.
"""

from ketaclinic.outcomes.selectors.clinic import (
    RATE_KEYS,
    Cell,
    ClinicFigures,
    Rate,
    TrajectoryPoint,
    cells_for,
    clinic_outcomes,
    durability_for,
    trajectory_for,
)
from ketaclinic.outcomes.selectors.filters import Filters, outcomes_filtered
from ketaclinic.outcomes.selectors.safety import SafetyFigures, SafetyRow, safety_for
from ketaclinic.outcomes.selectors.summary import (
    CourseSummary,
    MeasureSummary,
    patient_outcome_summary,
)

__all__ = [
    "RATE_KEYS",
    "Cell",
    "ClinicFigures",
    "CourseSummary",
    "Filters",
    "MeasureSummary",
    "Rate",
    "SafetyFigures",
    "SafetyRow",
    "TrajectoryPoint",
    "cells_for",
    "clinic_outcomes",
    "durability_for",
    "outcomes_filtered",
    "patient_outcome_summary",
    "safety_for",
    "trajectory_for",
]
