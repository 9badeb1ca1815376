"""The outcomes JSON API: the clinic's figures and a course's outcome summary."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.outcomes.tests.test_figures import SPECS
from ketaclinic.testing import Clinic


@pytest.fixture
def cohort(clinic: Clinic) -> Clinic:
    build_cohort(SPECS, clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=clinic.users["dana"])
    return clinic


def test_clinic_figures_as_json(cohort: Clinic) -> None:
    response = cohort.api("ada").get("/api/v1/outcomes/clinic?measure=gad7")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["definitions"] == "ketaclinic-outcomes v1"
    total = body["cells"][0]
    assert (total["started"], total["with_data"], total["missing"]) == (6, 4, 2)
    response_rate = total["rates"][0]
    assert response_rate["outcome"] == "Response"
    assert (response_rate["count"], response_rate["completers_percent"]) == (2, 50.0)
    assert response_rate["itt_ci"]["low"] < response_rate["itt_percent"] / 100
    assert body["published"] and body["durability"]


def test_bad_timepoint_is_a_422(cohort: Clinic) -> None:
    response = cohort.api("ada").get("/api/v1/outcomes/clinic?timepoint=infusion:0")
    assert response.status_code == 422


def test_course_outcome_for_the_patient_themself(cohort: Clinic) -> None:
    [course] = build_cohort([Spec("F41.1", 16, (14, 12, 8))], clinician=cohort.users["ada"])
    from ketaclinic.accounts.models import User

    User.objects.filter(username="pat").update(patient=course.patient)
    mine = cohort.api("pat").get(f"/api/v1/outcomes/courses/{course.pk}")
    assert mine.status_code == 200, mine.content
    gad7 = mine.json()["measures"][0]
    assert gad7["baseline"] == 16
    assert gad7["scores_by_infusion"][:3] == [14, 12, 8]
    assert gad7["status"] == "responding"
    other = build_cohort([Spec("F41.1", 10, (9,))], clinician=cohort.users["ada"])[0]
    assert cohort.api("pat").get(f"/api/v1/outcomes/courses/{other.pk}").status_code == 404


def test_nurse_may_not_read_the_clinic_figures(cohort: Clinic) -> None:
    assert cohort.api("ben").get("/api/v1/outcomes/clinic").status_code == 403
