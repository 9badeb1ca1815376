from __future__ import annotations

import pytest

from ketaclinic.ledger.dea import (
    REGISTRANT_TYPE_LETTERS,
    dea_check_digit,
    dea_number_is_valid,
    dea_number_normalise,
    dea_number_problems,
)


@pytest.mark.parametrize(
    "number",
    [
        "AB1234563",  # (1+3+5) + 2*(2+4+6) = 33
        "F91234563",  # business-address registrant
        "BJ6125341",  # (6+2+3) + 2*(1+5+4) = 31
        "MS0000000",
        "XA9999991",  # 27 + 54 = 81
    ],
)
def test_valid_numbers_have_no_problems(number: str) -> None:
    assert dea_number_problems(number) == []
    assert dea_number_is_valid(number)


@pytest.mark.parametrize(
    ("six", "check"),
    [("123456", 3), ("612534", 1), ("000000", 0), ("999999", 1), ("100000", 1), ("010000", 2)],
)
def test_check_digit_examples(six: str, check: int) -> None:
    assert dea_check_digit(six) == check


def test_check_digit_needs_six_digits() -> None:
    with pytest.raises(ValueError, match="six digits"):
        dea_check_digit("12345")


def test_lowercase_and_surrounding_spaces_are_accepted_and_normalised() -> None:
    assert dea_number_problems("  ab1234563 ") == []
    assert dea_number_normalise("  ab1234563 ") == "AB1234563"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("", "Enter a DEA number"),
        ("   ", "Enter a DEA number"),
        ("AB123456", "has 8"),
        ("AB12345630", "has 10"),
        ("AB1234563-001AB", "has 15"),
        ("AB 1234563", "has 10"),
    ],
)
def test_wrong_length_is_one_clear_problem(number: str, fragment: str) -> None:
    problems = dea_number_problems(number)
    assert len(problems) == 1
    assert fragment in problems[0]


def test_wrong_check_digit() -> None:
    problems = dea_number_problems("AB1234564")
    assert problems == [
        "The last digit does not match the check digit calculated from the other digits; "
        "check the number for a typing error."
    ]


NOT_REGISTRANT_TYPES = sorted(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") - REGISTRANT_TYPE_LETTERS)


@pytest.mark.parametrize("first", NOT_REGISTRANT_TYPES)
def test_first_letter_must_be_a_registrant_type(first: str) -> None:
    problems = dea_number_problems(f"{first}B1234563")
    assert len(problems) == 1
    assert f"'{first}', is not a DEA registrant type" in problems[0]


@pytest.mark.parametrize("first", sorted(REGISTRANT_TYPE_LETTERS))
def test_every_registrant_type_letter_is_accepted(first: str) -> None:
    assert dea_number_is_valid(f"{first}B1234563")


def test_the_accepted_registrant_types_are_the_documented_set() -> None:
    assert "".join(sorted(REGISTRANT_TYPE_LETTERS)) == "ABCDEFGHJKLMPRSTUX"


def test_first_character_digit() -> None:
    problems = dea_number_problems("1B1234563")
    assert problems == ["The first character, '1', must be a letter giving the registrant type."]


@pytest.mark.parametrize("second", ["1", "0", "-", "*"])
def test_second_character_must_be_a_letter_or_9(second: str) -> None:
    problems = dea_number_problems(f"A{second}1234563")
    assert len(problems) == 1
    assert "must be a letter" in problems[0]


def test_digits_must_be_digits() -> None:
    assert dea_number_problems("AB12345X3") == ["The last seven characters must all be digits."]


def test_several_problems_are_all_reported() -> None:
    assert len(dea_number_problems("QB1234564")) == 2


@pytest.mark.parametrize(
    ("last_name", "valid"),
    [
        ("Smith", True),
        ("smith", True),
        (" O'Brien", False),  # initial O, number has S
        ("Sánchez", True),
        ("Jones", False),
    ],
)
def test_second_letter_against_last_name(last_name: str, valid: bool) -> None:
    assert dea_number_is_valid("AS1234563", registrant_last_name=last_name) is valid


def test_last_name_problem_is_explained() -> None:
    problems = dea_number_problems("AS1234563", registrant_last_name="Jones")
    assert problems == [
        "The second letter, 'S', should be the first letter of the registrant's last name "
        "('Jones' gives 'J')."
    ]


def test_accented_initial_is_compared_without_accent() -> None:
    assert dea_number_is_valid("AO1234563", registrant_last_name="Öztürk")


def test_business_address_9_is_accepted_whatever_the_name() -> None:
    assert dea_number_is_valid("F91234563", registrant_last_name="Jones")


def test_name_is_not_checked_when_not_given() -> None:
    assert dea_number_is_valid("AZ1234563")
