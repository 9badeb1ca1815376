"""Reading an evaluation from the issue's JSON shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.eligibility.rules import (
    EvaluationDataError,
    Medication,
    MedicationTrial,
    PsychotherapyCourse,
    Vitals,
    evaluation_from_dict,
)

ISSUE_EXAMPLE: dict[str, Any] = {
    "diagnoses": ["F41.1"],
    "prior_treatments": [
        {
            "kind": "medication",
            "name": "sertraline",
            "drug_class": "SSRI",
            "daily_dose_mg": 150,
            "weeks": 10,
        },
        {"kind": "psychotherapy", "name": "CBT", "sessions": 12},
    ],
    "medications": [{"name": "lorazepam", "drug_class": "benzodiazepine"}],
    "contraindications": ["glaucoma"],
    "vitals": {
        "systolic": 128,
        "diastolic": 82,
        "heart_rate": 72,
        "spo2": 98,
        "weight_kg": 70.5,
        "height_cm": 172,
    },
    "notes": "...",
}


def test_issue_example_is_read() -> None:
    ev = evaluation_from_dict(ISSUE_EXAMPLE)
    assert ev.diagnoses == ("F41.1",)
    assert ev.prior_treatments == (
        MedicationTrial("sertraline", "SSRI", Decimal(150), Decimal(10)),
        PsychotherapyCourse("CBT", 12),
    )
    assert ev.medications == (Medication("lorazepam", "benzodiazepine"),)
    assert ev.contraindications == frozenset({"glaucoma"})
    assert ev.vitals == Vitals(128, 82, 72, 98, Decimal("70.5"), Decimal(172))
    assert ev.notes == "..."


def test_float_amounts_become_exact_decimals() -> None:
    ev = evaluation_from_dict(
        {"prior_treatments": [{"kind": "medication", "name": "x", "daily_dose_mg": 37.5}]}
    )
    (trial,) = ev.prior_treatments
    assert isinstance(trial, MedicationTrial)
    assert trial.daily_dose_mg == Decimal("37.5")


def test_empty_evaluation_is_read_with_no_vitals() -> None:
    ev = evaluation_from_dict({})
    assert ev.vitals is None
    assert ev.diagnoses == ()


def test_fields_no_rule_reads_are_accepted() -> None:
    evaluation_from_dict({"allergies": ["latex"], "baseline_scores": {"gad7": 17}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"contraindication": ["glaucoma"]}, "unknown key 'contraindication'"),
        ({"contraindications": "glaucoma"}, "contraindications: must be a list"),
        ({"contraindications": ["Glaucoma"]}, "contraindications[0]: must be a snake_case"),
        ({"diagnoses": ["generalised anxiety"]}, "diagnoses[0]"),
        ({"vitals": {"systolic": 128.5}}, "vitals.systolic: must be a whole number"),
        ({"vitals": {"systolic": "128"}}, "vitals.systolic: must be a whole number"),
        ({"vitals": {"bp": "128/80"}}, "unknown key 'bp'"),
        ({"prior_treatments": [{"kind": "ect"}]}, "prior_treatments[0].kind"),
        ({"prior_treatments": [{"kind": "medication"}]}, "missing 'name'"),
        (
            {"prior_treatments": [{"kind": "medication", "name": "x", "weeks": "six"}]},
            "prior_treatments[0].weeks: must be a number",
        ),
        (
            {"prior_treatments": [{"kind": "medication", "name": "x", "weeks": -1}]},
            "at least 0",
        ),
        (
            {"prior_treatments": [{"kind": "psychotherapy", "name": "CBT", "sessions": 8.5}]},
            "sessions: must be a whole number",
        ),
        ({"medications": [{"drug_class": "SSRI"}]}, "medications[0]: missing 'name'"),
        ({"notes": 3}, "notes: must be a string"),
        (
            {"pregnancy_status": "pregnant"},
            "pregnancy_status: record this on the",
        ),
        ({"psychosis_history": True}, "checklist (current_psychosis, psychosis_history)"),
    ],
)
def test_malformed_evaluation_is_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluationDataError) as caught:
        evaluation_from_dict(data)
    assert any(message in p for p in caught.value.problems), caught.value.problems
