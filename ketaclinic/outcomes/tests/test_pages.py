"""The clinic outcomes page, its CSVs and the patient page's outcome summary, over HTTP."""

from __future__ import annotations

import csv
import io

import pytest

from ketaclinic.outcomes.models import CourseOutcome
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.outcomes.tests.test_figures import SPECS
from ketaclinic.testing import Clinic


@pytest.fixture
def cohort(clinic: Clinic) -> Clinic:
    build_cohort(SPECS, clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=clinic.users["dana"])
    return clinic


def test_page_shows_denominators_beside_every_rate(cohort: Clinic) -> None:
    response = cohort.client("ada").get("/outcomes/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "started <strong>6</strong>" in html
    assert "missing <strong>2</strong>" in html
    assert "2 of 4 with data · 6 started · 2 missing" in html  # response, completers
    assert "2 of 6 started (2 missing counted as not)" in html  # response, ITT
    # every percentage on the rate tables carries a denominator
    assert html.count("with data ·") >= 4 * 3
    assert "Hull 2022" in html and "not IV" in html
    assert "ketaclinic-outcomes v1" in html


def test_filters_change_the_figures(cohort: Clinic) -> None:
    html = cohort.client("ada").get("/outcomes/?measure=gad7&timepoint=infusion:6").content
    assert b"3 of 4 with data" in html
    html = cohort.client("ada").get("/outcomes/?disorder=social").content
    assert b"started <strong>1</strong>" in html


def test_rates_csv_has_denominators(cohort: Clinic) -> None:
    response = cohort.client("dana").get("/outcomes/csv/rates/?timepoint=post_induction")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    first = next(r for r in rows if r["disorder"] == "All patients" and r["outcome"] == "Response")
    assert (first["count"], first["started"], first["with_data"], first["missing"]) == (
        "2",
        "6",
        "4",
        "2",
    )
    assert first["completers_percent"] == "50.0" and first["itt_percent"] == "33.3"
    assert first["definition"] == "ketaclinic-outcomes v1"


@pytest.mark.parametrize("table", ["trajectory", "durability", "safety", "published"])
def test_every_table_has_a_csv(cohort: Clinic, table: str) -> None:
    response = cohort.client("ada").get(f"/outcomes/csv/{table}/")
    assert response.status_code == 200
    assert len(response.content.decode().splitlines()) > 1


def test_nurse_and_intake_may_not_open_the_page(cohort: Clinic) -> None:
    assert cohort.client("ben").get("/outcomes/").status_code == 403
    assert cohort.client("cleo").get("/outcomes/csv/rates/").status_code == 403


def test_refresh_by_post(cohort: Clinic) -> None:
    CourseOutcome.objects.all().delete()
    response = cohort.client("ada").post("/outcomes/refresh/")
    assert response.status_code == 302
    assert CourseOutcome.objects.exists()


def test_patient_page_shows_the_outcome_summary(cohort: Clinic) -> None:
    [course] = build_cohort(
        [Spec("F41.1", 16, (14, 12, 8, 6, 5, 4))], clinician=cohort.users["ada"]
    )
    html = cohort.client("ben").get(f"/patients/{course.patient_id}/").content.decode()
    assert "Outcomes" in html
    assert "Responding" in html or "Remitted" in html
    assert "baseline 16" in html
    assert "ketaclinic-outcomes v1" in html
