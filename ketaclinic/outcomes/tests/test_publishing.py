"""Public figures: chosen by the administrator, shown only after a clinician approves, small
cells suppressed, denominators, missing, definition, period and comparison always shown."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from ketaclinic.outcomes.publishing import figure_approve, figure_choose, figures_refresh
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.testing import Clinic


@pytest.fixture
def cohort(clinic: Clinic) -> Clinic:
    # 22 GAD courses (shown) and 3 social anxiety (suppressed: fewer than 20)
    build_cohort(
        [Spec("F41.1", 16, (14, 12, 8, 6, 5, 4), follow_up=5)] * 11
        + [Spec("F41.1", 15, (15, 14, 13, 12, 12, 11), follow_up=12)] * 11
        + [Spec("F40.10", 14, (12, 10, 7, 7, 7, 6), follow_up=6)] * 3,
        clinician=clinic.users["ada"],
    )
    outcomes_refresh(acting_user=None)
    return clinic


def test_a_figure_shows_only_after_approval_and_small_cells_are_suppressed(
    cohort: Clinic,
) -> None:
    figure = figure_choose(
        acting_user=cohort.users["dana"], measure="gad7", timepoint="post_induction"
    )
    anon = cohort.client(None)
    assert b"has not published any results" in anon.get("/outcomes/public/").content
    with pytest.raises(PermissionDenied):
        figure_approve(acting_user=cohort.users["dana"], figure_id=figure.pk)
    figure_approve(acting_user=cohort.users["ada"], figure_id=figure.pk)
    html = anon.get("/outcomes/public/").content.decode()
    assert "25 started, 25 answered at this point, 0 did not" in html  # all patients
    assert "22 started, 22 answered" in html  # generalized anxiety
    assert "Social anxiety disorder</strong>: not shown, because fewer than 20" in html
    assert "of the 25 who answered" in html and "of all 25 who started" in html
    assert "ketaclinic-outcomes v1" in html and "2026-03-02" in html  # definition, period
    assert "Hull 2022" in html
    snapshot = figure.snapshot
    social = next(c for c in snapshot["cells"] if c["label"] == "Social anxiety disorder")
    assert social == {"label": "Social anxiety disorder", "suppressed": True}  # no numbers kept
    assert figures_refresh() == 1


def test_only_the_administrator_chooses(cohort: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        figure_choose(acting_user=cohort.users["ada"], measure="gad7", timepoint="latest")


def test_the_faq_links_to_the_results() -> None:
    from pathlib import Path

    faq = Path(__file__).resolve().parents[2] / "site" / "content" / "faq.md"
    assert "(/outcomes/public/)" in faq.read_text()
