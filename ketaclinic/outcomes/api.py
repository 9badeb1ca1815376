"""The outcomes as JSON: the clinic's figures and one course's outcome summary."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from ketaclinic.accounts.access import require
from ketaclinic.courses.selectors import course_get_for_user
from ketaclinic.outcomes.rules import Assessment
from ketaclinic.outcomes.rules.stats import Interval
from ketaclinic.outcomes.schemas import ClinicOutcomesOut, CourseOutcomeOut, FiltersIn
from ketaclinic.outcomes.selectors import (
    RATE_KEYS,
    Filters,
    clinic_outcomes,
    patient_outcome_summary,
)
from ketaclinic.outcomes.services import outcomes_current

router = Router(tags=["outcomes"])


def _interval(value: Interval | None) -> dict[str, float] | None:
    return None if value is None else {"low": value.low, "high": value.high}


def _assessment(value: Assessment | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "score": value.score,
        "at": value.at,
        "change": value.change,
        "percent_fall": value.percent_fall,
        "responded": value.responded,
        "remitted": value.remitted,
        "reliable_improvement": value.reliable_improvement,
        "reliable_deterioration": value.reliable_deterioration,
    }


@router.get("/clinic", response=ClinicOutcomesOut, url_name="outcomes_clinic")
def clinic(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    filters_in = Filters(**filters.dict())
    require(request.user, "outcomes.view")
    outcomes_current(acting_user=request.user)  # the patients changed since: recomputed first
    figures = clinic_outcomes(request.user, filters_in)
    cells = []
    for cell in figures.cells:
        rates = []
        for key, label in [*RATE_KEYS, ("recovered", "Recovery")]:
            rate = cell.recovery if key == "recovered" else cell.rate(key)
            rates.append(
                {
                    "outcome": label,
                    "count": rate.count,
                    "started": rate.started,
                    "with_data": rate.with_data,
                    "missing": rate.missing,
                    "completers_percent": rate.completers,
                    "completers_ci": _interval(rate.completers_ci),
                    "itt_percent": rate.itt,
                    "itt_ci": _interval(rate.itt_ci),
                }
            )
        cells.append(
            {
                "label": cell.label,
                "disorder": cell.disorder,
                "started": cell.started,
                "with_baseline": cell.with_baseline,
                "with_data": cell.with_data,
                "missing": cell.missing,
                "rates": rates,
            }
        )
    return {
        "definitions": figures.definitions.label,
        "measure": figures.measure.code,
        "timepoint": figures.filters.timepoint,
        "computed_at": figures.refreshed.finished_at if figures.refreshed else None,
        "cells": cells,
        "trajectory": [p.__dict__ for p in figures.trajectory],
        "durability": [
            {
                "days": s.time,
                "at_risk": s.at_risk,
                "lost_response": s.events,
                "censored": s.censored,
                "still_responding": s.survival,
            }
            for s in figures.km
        ],
        "infusions_given": figures.sessions_given,
        "safety": [
            {
                "kind": r.kind,
                "count": r.count,
                "per_100_infusions": r.per_100,
                "denominator": r.denominator,
                "denominator_text": r.denominator_text,
            }
            for r in figures.safety.rows
        ],
        "safety_by_dose_band": [
            {
                "band": b.band,
                "label": b.label,
                "sessions": b.sessions,
                "systolic_rise_mmhg": b.systolic_rise.__dict__,
                "diastolic_rise_mmhg": b.diastolic_rise.__dict__,
                "peak_dissociation": {k: v.__dict__ for k, v in b.dissociation.items()},
            }
            for b in figures.safety.by_dose
        ],
        "safety_definitions": figures.safety.definitions.label,
        "published": [
            {
                "study": c.figure.study,
                "citation": c.figure.citation,
                "definition": c.figure.definition,
                "timepoint_matched": c.timepoint_matched,
                "response_percent": c.figure.response_percent,
                "remission_percent": c.figure.remission_percent,
                "treated": c.figure.treated,
                "analysable": c.figure.analysable,
                "notes": list(c.notes),
            }
            for c in figures.comparisons
        ],
    }


@router.get("/courses/{course_id}", response=CourseOutcomeOut, url_name="outcomes_course")
def course(request: HttpRequest, course_id: str) -> dict[str, Any]:
    found = course_get_for_user(request.user, course_id, audit=False)
    summaries = patient_outcome_summary(request.user, found.patient, course_id=found.pk)
    if summaries:
        summary = summaries[0]
        return {
            "course": summary.course_id,
            "protocol": summary.protocol_code,
            "route": summary.route,
            "infusions": summary.infusions,
            "first_infusion_at": summary.first_infusion_at,
            "measures": [
                {
                    "measure": m.definition.code,
                    "definitions": m.outcome.definitions_label,
                    "baseline": m.outcome.baseline,
                    "baseline_at": m.outcome.baseline_at,
                    "scores_by_infusion": list(m.outcome.infusion_scores),
                    "status": m.outcome.status.value,
                    "latest": _assessment(m.outcome.latest),
                    "response_infusion": m.outcome.response_infusion,
                    "follow_ups": {k: _assessment(v) for k, v in m.outcome.follow_ups.items()},
                }
                for m in summary.measures
            ],
        }
    return {
        "course": found.pk,
        "protocol": found.protocol.code,
        "route": found.protocol.route,
        "infusions": 0,
        "first_infusion_at": None,
        "measures": [],
    }
