"""The outcome card's timeline rows written in Python (``outcomes_tags.outcome_timeline``) are
byte for byte what their template (``outcomes/_timeline_rows.html``) writes."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
from django.template.loader import get_template

from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.selectors import patient_outcome_summary
from ketaclinic.outcomes.selectors.card import card_from_kept_rows, card_from_summary
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.templatetags.outcomes_tags import outcome_timeline
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.outcomes.tests.test_set_based import EDGES
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

REFERENCE = "outcomes/_timeline_rows.html"


def _alike(measure: Any, follow_ups: Any) -> str:
    ours = str(outcome_timeline(measure, follow_ups))
    theirs = get_template(REFERENCE).render({"o": measure, "course": {"follow_ups": follow_ups}})
    assert ours == theirs
    return ours


def test_the_rows_are_the_templates_on_the_cohorts_cards(clinic: Clinic) -> None:
    rng = random.Random(23)  # noqa: S311  synthetic data
    specs = list(EDGES)
    for _ in range(20):
        n = rng.randint(1, 6)
        specs.append(
            Spec(
                rng.choice(["F41.1", "F40.10", "F42.2"]),
                None if rng.random() < 0.2 else rng.randint(0, 21),
                tuple(None if rng.random() < 0.25 else rng.randint(0, 21) for _ in range(n)),
                follow_up=None if rng.random() < 0.3 else rng.randint(0, 21),
                infusions=n,
            )
        )
    ada = clinic.users["ada"]
    build_cohort(specs, clinician=ada)
    outcomes_refresh(acting_user=None)
    defs = shipped_definitions()
    compared = responded = 0
    for patient in Patient.objects.filter(mrn__startswith="OC"):
        live = card_from_summary(patient_outcome_summary(ada, patient, audit=False))
        for card in (live, card_from_kept_rows(patient.pk, defs)):
            for course in card:
                for measure in course.measures:
                    html = _alike(measure, course.follow_ups)
                    compared += 1
                    responded += "(response)" in html
    assert compared >= len(specs) and responded > 0


def test_the_rows_are_the_templates_for_odd_values() -> None:
    score = SimpleNamespace(score=12, responded=True)
    plain = SimpleNamespace(score=0, responded=False)
    follow_ups = [("w4", "4 weeks <after>"), ("m3", "3 months & more"), ("m6", "6 months")]
    for baseline, scores, found in (
        (None, (), {}),
        (0, (None,), {"w4": None}),
        (21, (20, None, 3, 0), {"w4": score, "m3": plain}),
        (7, tuple(range(40)), {"m6": score}),
    ):
        measure = SimpleNamespace(baseline=baseline, infusion_scores=scores, follow_ups=found)
        html = _alike(measure, follow_ups)
        assert "&lt;after&gt;" in html and "&amp; more" in html
    assert _alike(SimpleNamespace(baseline=3, infusion_scores=(1,), follow_ups={}), []) == (
        '<thead><tr><th scope="row">After infusion</th><th scope="col">Baseline</th>'
        '<th scope="col">1</th></tr></thead>\n'
        '        <tbody><tr><th scope="row">Score</th><td>3</td><td>1</td></tr></tbody>'
    )
