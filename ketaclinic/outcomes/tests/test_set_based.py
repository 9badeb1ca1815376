"""The set-based recompute (PostgreSQL) writes exactly the rows the pure rules write through the
streamed recompute: every column of every course outcome and timepoint, on hand-made edge cases
(ties at the thresholds, a zero or missing baseline, one score, lost response, a second course,
disorder-specific measures, a patient re-evaluated) and on a seeded random cohort."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from ketaclinic.eligibility.models import Evaluation, ProposalOutcome, RuleSetVersion
from ketaclinic.outcomes.models import CourseOutcome, TimepointResult
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.outcomes.tests.test_figures import SPECS
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the set-based recompute is PostgreSQL's (SQLite uses the streamed one)",
)

EDGES = [
    *SPECS,
    Spec("F41.1", 0, (0, 1, 0)),  # a zero baseline: no percent change, never responds
    Spec("F41.1", 10, (5,), infusions=1),  # one infusion, one score: a tie at 50 %
    Spec("F41.1", 12, (None, None, None, None, None, 6)),  # one score, at infusion 6
    Spec("F41.1", 20, (9, 12, 8, 15, 16, 15), follow_up=17),  # responds, loses, again, loses
    Spec("F41.1", 9, (5, 4, 4, 4, 4, 4), follow_up=4, measure="phq9"),  # remits
    Spec("F42.2", 24, (20, 16, 15, 14, 12, 12), follow_up=11, measure="ybocs"),  # 35 % tie
    Spec("F40.10", 80, (70, 60, 52, 53, 40, 30), follow_up=29, measure="lsas"),
    Spec("F41.0", 10, (8, 6, 6, 5, 4, 3), follow_up=2, measure="pdss_sr"),  # 40 % tie at 4
    Spec("F41.1", 24, (20, 15, 12, 9, 7, 7), follow_up=7, measure="hama"),
    Spec("Z00.00", 14, (10, 7, 6)),  # no matching disorder
    Spec("F41.1", 15, (13, 11), infusions=2),  # a short course
]


def _snapshot() -> dict[tuple[Any, str], tuple[Any, ...]]:
    rows: dict[tuple[Any, str], tuple[Any, ...]] = {}
    skip = {"id", "computed_at"}
    fields = [f.attname for f in CourseOutcome._meta.concrete_fields if f.attname not in skip]
    point_fields = [
        f.attname
        for f in TimepointResult._meta.concrete_fields
        if f.attname not in {"id", "outcome_id"}
    ]
    for outcome in CourseOutcome.objects.all():
        points = sorted(
            tuple(getattr(p, f) for f in point_fields)
            for p in TimepointResult.objects.filter(outcome=outcome)
        )
        rows[(outcome.course_id, outcome.measure)] = (
            tuple(getattr(outcome, f) for f in fields),
            tuple(points),
        )
    return rows


def _both() -> tuple[dict[Any, Any], dict[Any, Any]]:
    streamed = outcomes_refresh(acting_user=None, method="streamed")
    expected = _snapshot()
    set_based = outcomes_refresh(acting_user=None, method="set_based")
    actual = _snapshot()
    assert (set_based.courses, set_based.rows) == (streamed.courses, streamed.rows)
    return expected, actual


def test_set_based_equals_the_rules_on_edge_cases(clinic: Clinic) -> None:
    ada = clinic.users["ada"]
    courses = build_cohort(EDGES, clinician=ada)
    # a second course for the first patient, 60 days later, on the same scores
    second = build_cohort([Spec("F41.1", 11, (9, 8, 5))], clinician=ada, offset_days=60)[0]
    own = second.patient_id
    second.patient_id = courses[0].patient_id
    second.save(update_fields=["patient"])
    Administration.objects.filter(patient_id=own).update(patient_id=courses[0].patient_id)
    # the first patient is re-evaluated: the latest evaluation's first matching diagnosis counts
    ruleset = RuleSetVersion.objects.order_by("pk").first()
    assert ruleset is not None
    Evaluation.objects.create(
        patient_id=courses[1].patient_id,
        input_json={"diagnoses": ["Z99.9", "F40.10", "F41.1"]},
        proposal_json={},
        outcome=ProposalOutcome.ELIGIBLE,
        ruleset=ruleset,
        created_by=ada,
    )
    # a baseline outside the 30-day window does not count
    Administration.objects.filter(patient_id=courses[2].patient_id, total=12).update(
        administered_at=courses[2].sessions.order_by("start").first().start - timedelta(days=31)  # type: ignore[union-attr]
    )
    expected, actual = _both()
    assert len(expected) >= len(EDGES) * 2
    assert actual == expected


def test_set_based_equals_the_rules_on_a_random_cohort(clinic: Clinic) -> None:
    rng = random.Random(14)  # noqa: S311  synthetic data
    tops = {"gad7": 21, "phq9": 27, "ybocs": 40, "lsas": 144, "hama": 56, "spin": 68}
    diagnoses = ["F41.1", "F40.10", "F41.0", "F42.2", "F41.9", "F43.1"]
    specs = []
    for _ in range(60):
        measure = rng.choice(list(tops))
        top = tops[measure]
        n = rng.randint(1, 6)
        specs.append(
            Spec(
                rng.choice(diagnoses),
                None if rng.random() < 0.15 else rng.randint(0, top),
                tuple(None if rng.random() < 0.2 else rng.randint(0, top) for _ in range(n)),
                follow_up=None if rng.random() < 0.3 else rng.randint(0, top),
                measure=measure,
                infusions=n,
            )
        )
    build_cohort(specs, clinician=clinic.users["ada"])
    expected, actual = _both()
    assert len(expected) >= 120
    assert actual == expected
