"""The patient page's outcomes card is the same whether it is made from the kept outcome rows or
computed live from the source rows; the kept rows are read only while they are current for the
patient, so the page never shows a figure older than the patient's last score or session."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.eligibility.models import Evaluation, ProposalOutcome, RuleSetVersion
from ketaclinic.outcomes.models import DirtyPatient
from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.selectors import patient_outcome_summary
from ketaclinic.outcomes.selectors.card import (
    CardCourse,
    card_from_kept_rows,
    card_from_summary,
)
from ketaclinic.outcomes.services import outcomes_current, outcomes_refresh
from ketaclinic.outcomes.services.upkeep import drop_triggers, install_triggers, kept_rows_current
from ketaclinic.outcomes.tests.cohort import START, Spec, build_cohort, score_at
from ketaclinic.outcomes.tests.test_set_based import EDGES
from ketaclinic.patients.models import Patient
from ketaclinic.scales.models import Administration, AdministrationMode
from ketaclinic.testing import Clinic


def _live(user: Any, patient: Patient) -> list[CardCourse]:
    return card_from_summary(patient_outcome_summary(user, patient, audit=False))


def _every_patient_alike(clinic: Clinic) -> int:
    """Each treated patient's card from the kept rows equals the live one; returns how many
    measures were compared."""
    defs = shipped_definitions()
    ada = clinic.users["ada"]
    compared = 0
    for patient in Patient.objects.filter(mrn__startswith="OC"):
        assert kept_rows_current(patient.pk, defs.label)
        kept = card_from_kept_rows(patient.pk, defs)
        assert kept == _live(ada, patient), patient.mrn
        compared += sum(len(course.measures) for course in kept)
    return compared


def test_the_kept_card_equals_the_live_one_on_edge_cases(clinic: Clinic) -> None:
    ada = clinic.users["ada"]
    courses = build_cohort(EDGES, clinician=ada)
    # a second course for the first patient, 60 days later, with its own scores
    second = build_cohort(
        [Spec("F41.1", 11, (9, 8, 5), infusions=3)], clinician=ada, offset_days=60
    )[0]
    own = second.patient_id
    second.patient_id = courses[0].patient_id
    second.save(update_fields=["patient"])
    Administration.objects.filter(patient_id=own).update(patient_id=courses[0].patient_id)
    # a re-evaluation: the latest evaluation's first matching diagnosis gives the disorder
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
    # scores the card shows with neither a baseline nor a score after an infusion: one taken
    # before the baseline window, and a PHQ-9 taken only at a follow-up point
    first_start = courses[2].sessions.order_by("start").first().start  # type: ignore[union-attr]
    Administration.objects.filter(patient_id=courses[2].patient_id, total=12).update(
        administered_at=first_start - timedelta(days=31)
    )
    Administration.objects.create(
        patient_id=courses[3].patient_id,
        instrument="phq9",
        answers={},
        total=7,
        administered_at=score_at(6) + timedelta(days=40),
        entered_by=ada,
        mode=AdministrationMode.STAFF_ENTRY,
    )
    outcomes_refresh(acting_user=None)
    assert _every_patient_alike(clinic) >= len(EDGES)
    # and a shown baseline carries its time
    card = card_from_kept_rows(courses[0].patient_id, shipped_definitions())
    assert [c.infusions for c in card] == [3, 6]  # the newest course first
    gad7 = card[1].measures[0]
    assert (gad7.definition.code, gad7.baseline) == ("gad7", 16)
    assert gad7.baseline_at == START - timedelta(days=2)  # cohort.py's baseline score
    no_window = card_from_kept_rows(courses[2].patient_id, shipped_definitions())[0].measures[0]
    assert (no_window.baseline, no_window.status.value) == (None, "no_baseline")


def test_the_kept_card_equals_the_live_one_on_a_random_cohort(clinic: Clinic) -> None:
    rng = random.Random(17)  # noqa: S311  synthetic data
    tops = {"gad7": 21, "phq9": 27, "ybocs": 40, "lsas": 144, "hama": 56, "spin": 68}
    diagnoses = ["F41.1", "F40.10", "F41.0", "F42.2", "F41.9", "F43.1"]
    specs = []
    for _ in range(40):
        measure = rng.choice(list(tops))
        n = rng.randint(1, 6)
        specs.append(
            Spec(
                rng.choice(diagnoses),
                None if rng.random() < 0.15 else rng.randint(0, tops[measure]),
                tuple(
                    None if rng.random() < 0.2 else rng.randint(0, tops[measure]) for _ in range(n)
                ),
                follow_up=None if rng.random() < 0.3 else rng.randint(0, tops[measure]),
                measure=measure,
                infusions=n,
            )
        )
    build_cohort(specs, clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=None)
    assert _every_patient_alike(clinic) >= 40


def test_the_kept_rows_are_read_only_while_current_for_the_patient(clinic: Clinic) -> None:
    ada = clinic.users["ada"]
    course = build_cohort([Spec("F41.1", 16, (14, 12, 8), infusions=3)], clinician=ada)[0]
    patient_id = course.patient_id
    label = shipped_definitions().label
    assert not kept_rows_current(patient_id, label)  # no full rebuild yet
    outcomes_refresh(acting_user=None)
    assert kept_rows_current(patient_id, label)
    assert not kept_rows_current(patient_id, "other definitions v2")
    # a new score marks the patient in its own transaction: the card is computed live until the
    # rows are recomputed, and then reads the new score from them
    Administration.objects.create(
        patient_id=patient_id,
        instrument="gad7",
        answers={},
        total=5,
        administered_at=score_at(4),
        entered_by=ada,
        mode=AdministrationMode.STAFF_ENTRY,
    )
    assert DirtyPatient.objects.filter(patient_id=patient_id).exists()
    assert not kept_rows_current(patient_id, label)
    live = _live(ada, course.patient)
    # the last score within 14 days of infusion 3 is its score now
    assert live[0].measures[0].infusion_scores == (14, 12, 5)
    assert live[0].measures[0].latest is not None and live[0].measures[0].latest.score == 5
    outcomes_current()
    assert kept_rows_current(patient_id, label)
    assert card_from_kept_rows(patient_id, shipped_definitions()) == live
    # a missing trigger: writes may have gone unmarked, so the rows are not trusted
    drop_triggers(connection)
    try:
        assert not kept_rows_current(patient_id, label)
    finally:
        install_triggers(connection)
    assert kept_rows_current(patient_id, label)


def test_the_page_shows_the_latest_score_at_once_and_reads_the_kept_rows_after(
    clinic: Clinic,
) -> None:
    ada = clinic.users["ada"]
    spec = Spec("F41.1", 16, (14, 12, 8, 6, 5, 4), follow_up=5)
    course = build_cohort([spec], clinician=ada)[0]
    outcomes_refresh(acting_user=None)
    client = clinic.client("ada")
    url = f"/patients/{course.patient_id}/"
    page = client.get(url).content.decode()
    assert "latest 5 (-11, 68.8 % fall)" in page
    with CaptureQueriesContext(connection) as kept:
        client.get(url)
    # a score entered now shows on the next view, before any recompute
    Administration.objects.create(
        patient_id=course.patient_id,
        instrument="gad7",
        answers={},
        total=3,
        administered_at=score_at(6) + timedelta(days=30),
        entered_by=ada,
        mode=AdministrationMode.STAFF_ENTRY,
    )
    with CaptureQueriesContext(connection) as live:
        page = client.get(url).content.decode()
    assert "latest 3 (-13, 81.2 % fall)" in page

    def kept_rows_read(queries: CaptureQueriesContext) -> bool:
        return any("outcomes_timepointresult" in q["sql"] for q in queries.captured_queries)

    assert kept_rows_read(kept)
    assert not kept_rows_read(live)  # the dirty patient's card is computed from the scores
