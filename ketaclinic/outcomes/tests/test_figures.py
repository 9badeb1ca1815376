"""The clinic's figures from a small cohort whose every number is worked out by hand."""

from __future__ import annotations

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.outcomes.models import CourseOutcome
from ketaclinic.outcomes.selectors import Filters, clinic_outcomes, patient_outcome_summary
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.testing import Clinic

GAD = "F41.1"
SOCIAL = "F40.10"

SPECS = [
    Spec(GAD, 16, (14, 12, 8, 6, 5, 4), follow_up=5),  # responds at 3, still at follow-up
    Spec(GAD, 15, (15, 14, 13, 12, 12, 11), follow_up=12),  # never responds
    Spec(GAD, 12, (12, 10, 8, 6, 6, 6), follow_up=9),  # responds at 4 (tie), lost at follow-up
    Spec(GAD, None, (10, 9, 8, 7, 6, 5), follow_up=5),  # no baseline: started, missing
    Spec(GAD, 18, (None,) * 6),  # baseline only: started, missing
    Spec(SOCIAL, 14, (12, 10, 7, 7, 7, 6), follow_up=6),  # responds at 3 (7 of 14: tie), still
]


@pytest.fixture
def cohort(clinic: Clinic) -> Clinic:
    build_cohort(SPECS, clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=clinic.users["dana"])
    return clinic


def test_post_induction_rates_show_both_denominators(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["ada"], Filters(measure="gad7"))
    total = figures.cells[0]
    assert (total.label, total.started, total.with_baseline, total.with_data) == (
        "All patients",
        6,
        5,
        4,
    )
    assert total.missing == 2
    response = total.rate("responded")
    assert (response.count, response.with_data, response.started) == (2, 4, 6)
    assert response.completers == 50.0
    assert response.itt == pytest.approx(33.333, abs=1e-3)
    assert response.completers_ci is not None and response.itt_ci is not None
    assert total.rate("remitted").count == 0
    assert total.rate("reliable_improvement").count == 2  # falls of 11 and 8
    # recovery: cases at start (GAD-7 >= 8) 16, 15, 12, 18, 14; with data 16, 15, 12, 14;
    # below 8 at the end: 16 -> 5 and 14 -> 6
    recovery = total.recovery
    assert (recovery.count, recovery.with_data, recovery.started) == (2, 4, 5)
    by_disorder = {
        c.disorder: (c.started, c.with_data, c.counts["responded"]) for c in figures.cells[1:]
    }
    assert by_disorder == {"gad": (5, 3, 1), "social": (1, 1, 1)}
    assert figures.definitions.label == "ketaclinic-outcomes v1"


def test_rates_after_infusion_six(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["dana"], Filters(measure="gad7", timepoint="infusion:6"))
    total = figures.cells[0]
    assert (total.started, total.with_data) == (6, 4)
    assert total.rate("responded").count == 3  # 75 %, 50 % (tie), 57 %
    assert total.rate("remitted").count == 1  # the score of 4


def test_filter_by_disorder(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["ada"], Filters(measure="gad7", disorder="social"))
    assert [(c.started, c.with_data) for c in figures.cells] == [(1, 1)]


def test_trajectory_quartiles_by_infusion(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["ada"], Filters(measure="gad7"))
    first = next(p for p in figures.trajectory if p.infusion == 1)
    # scores after infusion 1 with a baseline: 12, 12, 14, 15
    assert (first.n, first.q1, first.median, first.q3) == (4, 12.0, 13.0, 14.25)
    baseline = figures.trajectory[0]
    assert (baseline.infusion, baseline.n, baseline.median) == (0, 5, 15.0)  # 12 14 15 16 18


def test_durability_kaplan_meier(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["ada"], Filters(measure="gad7"))
    # responders: one lost 22 days after responding (day 8 -> day 31); two responded on day 6
    # and were still responding at their last score on day 31 (censored at 24 days)
    table = [(s.time, s.at_risk, s.events, s.censored, round(s.survival, 4)) for s in figures.km]
    assert table == [(22.0, 3, 1, 0, 0.6667), (24.0, 2, 0, 2, 0.6667)]
    assert figures.responders == 3


def test_published_comparison_is_matched_and_states_differences(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["ada"], Filters(measure="gad7"))
    first = figures.comparisons[0]
    assert first.timepoint_matched and first.figure.study in {"Hull 2022", "Hietamies 2023"}
    assert all(c.figure.measure == "gad7" for c in figures.comparisons)
    assert any("not IV" in note for c in figures.comparisons for note in c.notes)


def test_safety_counts_infusions_given(cohort: Clinic) -> None:
    figures = clinic_outcomes(cohort.users["ada"], Filters(measure="gad7"))
    assert figures.sessions_given == 36


def test_clinic_figures_are_audited_and_need_the_permission(cohort: Clinic) -> None:
    before = AuditEvent.objects.filter(object_type="ClinicOutcomes").count()
    clinic_outcomes(cohort.users["ada"], Filters())
    assert AuditEvent.objects.filter(object_type="ClinicOutcomes").count() == before + 1
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        clinic_outcomes(cohort.users["ben"], Filters())


def test_refresh_replaces_the_rows(cohort: Clinic) -> None:
    count = CourseOutcome.objects.count()
    outcomes_refresh(acting_user=None)
    assert CourseOutcome.objects.count() == count
    # GAD-7, PHQ-9 and HAM-A for the five GAD courses; GAD-7, PHQ-9, LSAS and SPIN for the
    # social-anxiety course (started, no data: the missing must count)
    assert count == 5 * 3 + 4


def test_patient_summary_is_live_and_audited(cohort: Clinic) -> None:
    outcome = CourseOutcome.objects.filter(measure="gad7", baseline=16).get()
    patient = outcome.patient
    summary = patient_outcome_summary(cohort.users["ben"], patient)
    assert len(summary) == 1
    measure = summary[0].measures[0]
    assert measure.definition.code == "gad7"
    assert measure.outcome.infusion_scores == (14, 12, 8, 6, 5, 4)
    assert measure.outcome.status.value == "responding"
    assert AuditEvent.objects.filter(object_type="OutcomeSummary", patient_id=patient.pk).exists()
