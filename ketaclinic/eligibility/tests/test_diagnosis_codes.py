"""The diagnosis code table and the "no known allergies" reading (pure, no database)."""

from __future__ import annotations

import pytest

from ketaclinic.eligibility.rules.diagnosis_codes import (
    AllergyLine,
    allergy_lines,
    allergy_means_none,
    code_table,
    diagnosis_code,
)


def test_every_offered_diagnosis_is_in_the_table_with_a_title() -> None:
    from ketaclinic.eligibility.forms import DIAGNOSIS_CHOICES

    table = code_table()
    assert {code for code, _ in DIAGNOSIS_CHOICES} == set(table.diagnoses)
    assert all(d.title for d in table.diagnoses.values())
    assert "codes.md" in table.source and table.nka_code == "716186003"
    assert set(table.severity_codes) == {"mild", "moderate", "severe"}


@pytest.mark.parametrize(
    ("typed", "snomed", "title"),
    [
        ("F41.1", "21897009", "Generalized anxiety disorder"),
        (" f41.1 ", "21897009", "Generalized anxiety disorder"),
        ("F42.2", "", "Mixed obsessional thoughts and acts"),
        ("F99", "", "F99"),  # not in the table: the code alone
    ],
)
def test_diagnosis_code(typed: str, snomed: str, title: str) -> None:
    found = diagnosis_code(typed)
    assert (found.snomed, found.title) == (snomed, title)


@pytest.mark.parametrize(
    ("line", "none"),
    [
        ("NKA", True),
        ("nkda", True),
        ("None", True),
        ("No known allergies.", True),
        ("no  known   drug allergies", True),
        ("penicillin", False),
        ("none known to penicillin? ask", False),
    ],
)
def test_allergy_means_none(line: str, none: bool) -> None:
    assert allergy_means_none(line) is none


@pytest.mark.parametrize(
    ("allergies", "rows"),
    [
        ([], [AllergyLine("", True)]),
        (["NKDA"], [AllergyLine("", True)]),
        (["latex", "none"], [AllergyLine("latex", False)]),
        (["latex", " ", "egg"], [AllergyLine("latex", False), AllergyLine("egg", False)]),
        (None, []),  # not asked: nothing recorded
    ],
)
def test_allergy_lines(allergies: object, rows: list[AllergyLine]) -> None:
    assert allergy_lines(allergies) == rows
