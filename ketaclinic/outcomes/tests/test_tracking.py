"""Not-on-track alerts in the database: the published curve until a cell has enough completed
inductions, then the clinic's MixedLM; a course above the band is flagged to its prescriber,
once; a failed refit keeps the previous curve and says so."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from django.core.management import call_command

from ketaclinic.outcomes.models import ExpectedCurve, NotOnTrackFlag
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.outcomes.tracking import curve_in_use, curves_refit, not_on_track_check
from ketaclinic.scales.models import Notification
from ketaclinic.testing import Clinic

GAD = "F41.1"


def test_published_curve_flags_a_course_that_worsened(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    # Published curve, baseline 18, after infusion 4: expected 18 * (1 - 0.30 ln 4 / ln 6) =
    # 13.8, SD sqrt(1 + (0.22 * 18)^2) = 4.08, band up to 13.8 + 1.645 * 4.08 = 20.5. A score
    # of 18 (no change) is inside this wide published band; 21 is above it.
    [stuck] = build_cohort([Spec(GAD, 18, (19, 20, 21, 21, 20, 20))], clinician=clinic.users["ada"])
    build_cohort([Spec(GAD, 18, (16, 14, 13, 12, 11, 10))], clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=None)
    with django_capture_on_commit_callbacks(execute=True):
        flags = not_on_track_check(acting_user=None)
    assert [f.course_id for f in flags] == [stuck.pk]  # GAD-7 only: no other measure scored
    flag = flags[0]
    assert flag.infusion_number == 4 and flag.score == 21
    assert flag.curve_source == "published" and "Oliver 2022" in flag.curve_label
    assert "above the expected band" in flag.reason
    note = Notification.objects.get(user=clinic.users["ada"])
    assert "Not on track" in note.text and "no change was made" in note.text
    assert "Synthetic" not in note.text  # no patient name in the inbox
    # once only
    assert not_on_track_check(acting_user=None) == []
    assert NotOnTrackFlag.objects.count() == 1


def _specs(rng: random.Random, n: int) -> list[Spec]:
    specs = []
    for _ in range(n):
        baseline = rng.randint(10, 21)
        u0, u1 = rng.gauss(0, 1.5), rng.gauss(0, 0.8)
        after = tuple(
            max(
                0,
                min(
                    21,
                    round(
                        2
                        - 3 * math.log(k)
                        + 0.8 * baseline
                        + u0
                        + u1 * math.log(k)
                        + rng.gauss(0, 1.5)
                    ),
                ),
            )
            for k in range(1, 7)
        )
        specs.append(Spec(GAD, baseline, after))
    return specs


@pytest.mark.django_db
def test_refit_switches_to_the_clinic_model_and_a_failed_fit_keeps_it(clinic: Clinic) -> None:
    rng = random.Random(7)  # noqa: S311  synthetic data
    build_cohort(_specs(rng, 60), clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=None)
    [row] = [r for r in curves_refit(acting_user=None, minimum=50) if r.measure == "gad7"]
    assert row.source == "mixedlm" and row.in_use and row.completed_inductions == 60
    curve, note = curve_in_use(row.protocol_code, "gad", "gad7")
    assert curve is not None and curve.source == "mixedlm" and note == ""

    # every later score identical: no variance, the fit fails; the previous curve stays
    from ketaclinic.outcomes.models import TimepointResult

    TimepointResult.objects.filter(outcome__measure="gad7").update(score=10)
    from ketaclinic.outcomes.models import CourseOutcome

    CourseOutcome.objects.filter(measure="gad7").update(baseline=15)
    [failed] = [r for r in curves_refit(acting_user=None, minimum=50) if r.measure == "gad7"]
    assert failed.source == "failed" and not failed.in_use and failed.message
    curve, note = curve_in_use(row.protocol_code, "gad", "gad7")
    assert curve is not None and curve.source == "mixedlm"
    assert "was not used" in note
    assert ExpectedCurve.objects.filter(in_use=True, measure="gad7").count() == 1


def test_the_command_runs_the_jobs(clinic: Clinic) -> None:
    build_cohort([Spec(GAD, 18, (19, 20, 21, 21))], clinician=clinic.users["ada"])
    call_command("outcomes", "refresh")
    call_command("outcomes", "refit")
    call_command("outcomes", "check")
    assert NotOnTrackFlag.objects.count() == 1


def test_patient_page_shows_the_flag_with_its_reason(clinic: Clinic) -> None:
    [course] = build_cohort([Spec(GAD, 18, (19, 20, 21, 21))], clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=None)
    not_on_track_check(acting_user=None)
    html = clinic.client("ada").get(f"/patients/{course.patient_id}/").content.decode()
    assert "Not on track" in html and "above the expected band" in html
    assert "no change was made to the treatment" in html
    page = clinic.client("ada").get("/outcomes/").content.decode()
    assert "Oliver 2022" in page and "After infusion 4" in page
