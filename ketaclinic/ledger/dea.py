"""DEA registration numbers: format and check-digit validation.

A DEA registration number is two letters followed by seven digits, e.g. ``AB1234563``:

* the first letter is the registrant type (business activity);
* the second character is the first letter of the registrant's last name, or ``9`` for a
  registrant that registered under a business address instead of a name;
* of the seven digits, the last is a check digit: add the 1st, 3rd and 5th digits, add twice
  the sum of the 2nd, 4th and 6th digits; the ones digit of the total is the check digit.

Sources for the set of first letters (looked up while writing this module; they disagree on
what some letters *mean*, so only the set of accepted letters is encoded here):

* Wikipedia, "DEA number" (the registrant-type table: A, B, C, D, E, F, G, H, J, K, L, M, P,
  R, S, T, U, X, and the check-digit rule);
* DEA Diversion Control Division, "DEA Registration Record Layout" (2016-2017 revisions of the
  registrant database layout): A/B/F/G practitioners, hospitals/clinics, pharmacies and
  teaching institutions; M mid-level practitioners; P/R manufacturers, distributors,
  researchers, analytical labs, importers, exporters, reverse distributors and narcotic
  treatment programs. DEA started issuing F after B was exhausted, and G later.
* X was the prefix of DATA-waived buprenorphine prescribers. The waiver was abolished in 2023
  (Consolidated Appropriations Act, 2023, "MAT Act"), but X numbers still appear in older
  records, so they are accepted.

This is a plausibility check (catches typing errors), not proof that a registration exists
or is active: that needs the DEA registration validation service.
"""

from __future__ import annotations

import unicodedata

REGISTRANT_TYPE_LETTERS: frozenset[str] = frozenset("ABCDEFGHJKLMPRSTUX")
"""First letters accepted as a registrant type (see the module docstring for sources)."""

BUSINESS_ADDRESS_MARK = "9"
"""Second character used by registrants that registered under a business address."""

DEA_NUMBER_LENGTH = 9


def dea_number_normalise(number: str) -> str:
    """The form we store: surrounding white space removed, letters in upper case."""
    return number.strip().upper()


def dea_check_digit(six_digits: str) -> int:
    """The check digit for the six digits that precede it.

    (d1 + d3 + d5) + 2 x (d2 + d4 + d6), ones digit.
    """
    if len(six_digits) != 6 or not all(c in "0123456789" for c in six_digits):
        raise ValueError("dea_check_digit needs exactly six digits")
    d = [int(c) for c in six_digits]
    total = (d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])
    return total % 10


def _last_name_initial(last_name: str) -> str | None:
    """First letter of a last name, without accents, in upper case ("Öztürk" gives "O")."""
    for char in unicodedata.normalize("NFKD", last_name):
        if char.isascii() and char.isalpha():
            return char.upper()
    return None


def dea_number_problems(number: str, *, registrant_last_name: str | None = None) -> list[str]:
    """What is wrong with a DEA number, as sentences to show to the person who typed it.

    An empty list means the number is plausible. Lower-case letters and surrounding spaces
    are accepted (store `dea_number_normalise(number)`). The second letter is compared with
    the registrant's last name only when `registrant_last_name` is given; ``9`` (business
    address registrants) is always accepted there.
    """
    value = dea_number_normalise(number)
    if not value:
        return ["Enter a DEA number: two letters followed by seven digits, e.g. AB1234563."]
    if len(value) != DEA_NUMBER_LENGTH:
        return [
            f"A DEA number has {DEA_NUMBER_LENGTH} characters (two letters followed by seven "
            f"digits); this one has {len(value)}."
        ]

    problems: list[str] = []
    first, second, digits = value[0], value[1], value[2:]

    if not ("A" <= first <= "Z"):
        problems.append(
            f"The first character, '{first}', must be a letter giving the registrant type."
        )
    elif first not in REGISTRANT_TYPE_LETTERS:
        allowed = ", ".join(sorted(REGISTRANT_TYPE_LETTERS))
        problems.append(
            f"The first letter, '{first}', is not a DEA registrant type (one of {allowed})."
        )

    if not ("A" <= second <= "Z" or second == BUSINESS_ADDRESS_MARK):
        problems.append(
            f"The second character, '{second}', must be a letter (the registrant's last-name "
            f"initial) or {BUSINESS_ADDRESS_MARK}."
        )
    elif registrant_last_name is not None and second != BUSINESS_ADDRESS_MARK:
        initial = _last_name_initial(registrant_last_name)
        if initial is not None and second != initial:
            problems.append(
                f"The second letter, '{second}', should be the first letter of the "
                f"registrant's last name ('{registrant_last_name.strip()}' gives '{initial}')."
            )

    if not all(c in "0123456789" for c in digits):
        problems.append("The last seven characters must all be digits.")
    elif dea_check_digit(digits[:6]) != int(digits[6]):
        problems.append(
            "The last digit does not match the check digit calculated from the other digits; "
            "check the number for a typing error."
        )

    return problems


def dea_number_is_valid(number: str, *, registrant_last_name: str | None = None) -> bool:
    return not dea_number_problems(number, registrant_last_name=registrant_last_name)
