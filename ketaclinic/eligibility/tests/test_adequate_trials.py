"""Which prior treatments count as adequate first-line trials."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.eligibility.rules import (
    AdequateTrial,
    MedicationTrial,
    PriorTreatment,
    PsychotherapyCourse,
    adequate_trials,
    default_minimum_doses,
    trial_assessments,
)

DOSES = default_minimum_doses()
GAD = ("F41.1",)
OCD = ("F42.2",)


def med(name: str, drug_class: str, mg: str | None, weeks: str | None) -> MedicationTrial:
    return MedicationTrial(
        name,
        drug_class,
        daily_dose_mg=None if mg is None else Decimal(mg),
        weeks=None if weeks is None else Decimal(weeks),
    )


def therapy(name: str, sessions: int | None) -> PsychotherapyCourse:
    return PsychotherapyCourse(name, sessions)


@pytest.mark.parametrize(
    ("treatment", "diagnoses", "counted"),
    [
        # duration edge: 6 weeks counts, 5 (or 5.9) does not
        (med("sertraline", "SSRI", "50", "6"), GAD, True),
        (med("sertraline", "SSRI", "50", "5"), GAD, False),
        (med("sertraline", "SSRI", "50", "5.9"), GAD, False),
        # dose edge: the table's minimum counts, below it does not
        (med("sertraline", "SSRI", "49.9", "10"), GAD, False),
        (med("sertraline", "SSRI", "25", "10"), GAD, False),
        (med("escitalopram", "SSRI", "10", "8"), GAD, True),
        (med("escitalopram", "SSRI", "5", "8"), GAD, False),
        # SNRIs count
        (med("venlafaxine", "SNRI", "75", "8"), GAD, True),
        (med("duloxetine", "SNRI", "60", "6"), GAD, True),
        (med("duloxetine", "SNRI", "30", "12"), GAD, False),
        # other classes do not, whatever the dose
        (med("bupropion", "NDRI", "300", "12"), GAD, False),
        (med("bupropion", "SSRI", "300", "12"), GAD, False),  # a wrong class does not help
        (med("mirtazapine", "NaSSA", "45", "12"), GAD, False),
        (med("pregabalin", "gabapentinoid", "600", "12"), GAD, False),
        # names and classes are matched without regard to case or spaces
        (med(" Sertraline ", "ssri", "100", "8"), GAD, True),
        # missing dose or duration: cannot count
        (med("sertraline", "SSRI", None, "8"), GAD, False),
        (med("sertraline", "SSRI", "100", None), GAD, False),
        # CBT: 8 sessions counts, 7 does not; for every diagnosis
        (therapy("CBT", 8), GAD, True),
        (therapy("CBT", 7), GAD, False),
        (therapy("cbt", 16), OCD, True),
        (therapy("CBT", None), GAD, False),
        # ERP counts only with an OCD diagnosis
        (therapy("ERP", 12), OCD, True),
        (therapy("ERP", 12), ("F42.9",), True),
        (therapy("ERP", 12), GAD, False),
        (therapy("ERP", 7), OCD, False),
        # other therapies do not count
        (therapy("psychodynamic", 40), GAD, False),
        (therapy("supportive counselling", 12), GAD, False),
    ],
)
def test_one_trial_counts_or_not(
    treatment: PriorTreatment, diagnoses: tuple[str, ...], counted: bool
) -> None:
    trials = adequate_trials([treatment], DOSES, diagnoses)
    assert len(trials) == (1 if counted else 0)
    (assessment,) = trial_assessments([treatment], DOSES, diagnoses)
    assert assessment.adequate is counted
    assert assessment.why


def test_same_drug_twice_counts_once() -> None:
    trials = adequate_trials(
        [med("sertraline", "SSRI", "100", "8"), med("Sertraline", "SSRI", "200", "12")],
        DOSES,
        GAD,
    )
    assert trials == [AdequateTrial("medication", "sertraline")]


def test_same_therapy_twice_counts_once() -> None:
    trials = adequate_trials([therapy("CBT", 12), therapy("cbt", 10)], DOSES, GAD)
    assert trials == [AdequateTrial("psychotherapy", "CBT")]


def test_second_course_of_same_drug_is_explained_as_already_counted() -> None:
    first, second = trial_assessments(
        [med("sertraline", "SSRI", "100", "8"), med("sertraline", "SSRI", "150", "8")], DOSES, GAD
    )
    assert first.counts_as == AdequateTrial("medication", "sertraline")
    assert second.adequate and second.counts_as is None
    assert "already counted" in second.why


def test_inadequate_then_adequate_course_of_the_same_drug_counts() -> None:
    trials = adequate_trials(
        [med("sertraline", "SSRI", "25", "8"), med("sertraline", "SSRI", "100", "8")], DOSES, GAD
    )
    assert trials == [AdequateTrial("medication", "sertraline")]


def test_two_different_ssris_and_cbt_make_three() -> None:
    trials = adequate_trials(
        [
            med("fluoxetine", "SSRI", "20", "8"),
            med("paroxetine", "SSRI", "20", "8"),
            therapy("CBT", 8),
        ],
        DOSES,
        GAD,
    )
    assert [t.name for t in trials] == ["fluoxetine", "paroxetine", "CBT"]


def test_cbt_and_erp_for_ocd_count_as_two_modalities() -> None:
    trials = adequate_trials([therapy("CBT", 8), therapy("ERP", 8)], DOSES, OCD)
    assert len(trials) == 2


@pytest.mark.parametrize(
    ("why_contains", "treatment", "diagnoses"),
    [
        ("fewer than 6", med("sertraline", "SSRI", "100", "5"), GAD),
        ("below the therapeutic minimum 50", med("sertraline", "SSRI", "25", "8"), GAD),
        ("minimum-dose table", med("bupropion", "NDRI", "300", "8"), GAD),
        ("fewer than 8", therapy("CBT", 7), GAD),
        ("F42", therapy("ERP", 12), GAD),
        ("not a counted psychotherapy", therapy("DBT", 30), GAD),
    ],
)
def test_assessment_says_why_a_trial_does_not_count(
    why_contains: str, treatment: PriorTreatment, diagnoses: tuple[str, ...]
) -> None:
    (assessment,) = trial_assessments([treatment], DOSES, diagnoses)
    assert not assessment.adequate
    assert why_contains in assessment.why


def test_shipped_dose_table_covers_the_common_ssris_and_snris() -> None:
    assert set(DOSES.doses) >= {
        "sertraline",
        "fluoxetine",
        "paroxetine",
        "citalopram",
        "escitalopram",
        "fluvoxamine",
        "venlafaxine",
        "duloxetine",
        "desvenlafaxine",
        "levomilnacipran",
    }
    for dose in DOSES.doses.values():
        assert isinstance(dose.minimum_daily_mg, Decimal)
        assert dose.drug_class in {"SSRI", "SNRI"}
        assert dose.source
    assert DOSES.minimum_weeks == Decimal(6)
