"""API output for the outcomes: a course's outcome summary and the clinic's figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from ketaclinic.outcomes.rules.definitions import shipped_definitions


class FiltersIn(Schema):
    model_config = ConfigDict(extra="forbid")

    measure: str = Field("gad7", max_length=40)
    timepoint: str = Field(
        "post_induction",
        pattern=r"^(post_induction|week_6|latest|infusion:([1-9]|[1-9][0-9]))$",
        description="post_induction, week_6, latest or infusion:N",
    )
    disorder: Literal["", "gad", "social", "panic", "ocd", "other"] = ""
    protocol: str = Field("", max_length=100)
    route: str = Field("", max_length=16)
    clinician: int | None = None
    period_from: date | None = None
    period_to: date | None = None

    @field_validator("measure")
    @classmethod
    def _known_measure(cls, value: str) -> str:
        # An unknown measure is the caller's error (422), not a KeyError in the figures (500).
        if value not in shipped_definitions().measures:
            raise ValueError("not a measure of the outcome definitions")
        return value


class IntervalOut(Schema):
    low: float
    high: float


class RateOut(Schema):
    outcome: str
    count: int
    started: int
    with_data: int
    missing: int
    completers_percent: float | None
    completers_ci: IntervalOut | None
    itt_percent: float | None
    itt_ci: IntervalOut | None


class CellOut(Schema):
    label: str
    disorder: str
    started: int
    with_baseline: int
    with_data: int
    missing: int
    rates: list[RateOut]


class TrajectoryOut(Schema):
    infusion: int
    n: int
    q1: float | None
    median: float | None
    q3: float | None


class KMStepOut(Schema):
    days: float
    at_risk: int
    lost_response: int
    censored: int
    still_responding: float


class ComparisonOut(Schema):
    study: str
    citation: str
    definition: str
    timepoint_matched: bool
    response_percent: float | None
    remission_percent: float | None
    treated: int | None
    analysable: int | None
    notes: list[str]


class SafetyOut(Schema):
    kind: str
    count: int
    per_100_infusions: float | None
    denominator: int
    denominator_text: str


class SpreadOut(Schema):
    n: int
    q1: float | None
    median: float | None
    q3: float | None
    maximum: int | None


class DoseBandOut(Schema):
    band: str
    label: str
    sessions: int
    systolic_rise_mmhg: SpreadOut
    diastolic_rise_mmhg: SpreadOut
    peak_dissociation: dict[str, SpreadOut]


class ClinicOutcomesOut(Schema):
    definitions: str
    measure: str
    timepoint: str
    computed_at: datetime | None
    cells: list[CellOut]
    trajectory: list[TrajectoryOut]
    durability: list[KMStepOut]
    infusions_given: int
    safety: list[SafetyOut]
    safety_by_dose_band: list[DoseBandOut]
    safety_definitions: str
    published: list[ComparisonOut]


class AssessmentOut(Schema):
    score: int
    at: datetime
    change: int
    percent_fall: float | None
    responded: bool
    remitted: bool
    reliable_improvement: bool | None
    reliable_deterioration: bool | None


class MeasureOutcomeOut(Schema):
    measure: str
    definitions: str
    baseline: int | None
    baseline_at: datetime | None
    scores_by_infusion: list[int | None]
    status: str
    latest: AssessmentOut | None
    response_infusion: int | None
    follow_ups: dict[str, AssessmentOut | None]


class CourseOutcomeOut(Schema):
    course: UUID
    protocol: str
    route: str
    infusions: int
    first_infusion_at: datetime | None
    measures: list[MeasureOutcomeOut]
