"""Pydantic building blocks for strict JSON input: the types our API schemas share."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StrictStr, StringConstraints

from ketaclinic.lib.strict_json import SURROGATE_MESSAGE, bad_character_message
from ketaclinic.lib.text import TextKind, TextRefused, text_checked

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"is not a real date: {exc}") from exc


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date given as an ISO 8601 string (YYYY-MM-DD); numbers are refused."""


def _text(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; storing one would fail with a DataError (a 500).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_NoNul = AfterValidator(_no_nul)


def _no_lone_surrogate(value: object) -> object:
    # pydantic refuses a lone surrogate too, but as "unable to parse raw data as a unicode
    # string"; say what is wrong, in the words the hand-read bodies (evaluations, FHIR) use.
    if isinstance(value, str) and bad_character_message(value) == SURROGATE_MESSAGE:
        raise ValueError(SURROGATE_MESSAGE)
    return value


_NoSurrogate = BeforeValidator(_no_lone_surrogate)


def checked_text(kind: TextKind) -> AfterValidator:
    """NFC, and no control, invisible-format or direction-override character (lib/text.py):
    for the apps' own string types (``Annotated[StrictStr, ..., checked_text("free")]``)."""

    def check(value: str) -> str:
        try:
            return text_checked(value, kind)
        except TextRefused as exc:
            raise ValueError(str(exc)) from None

    return AfterValidator(check)


_Line = checked_text("line")
_Free = checked_text("free")
_PersonName = checked_text("name")

# Strict strings: numbers and booleans are refused, not coerced; white space is stripped;
# NUL characters and lone surrogates are refused; the text is NFC, and control, format and
# direction-override characters are refused (tab and line breaks in Text500/Text5000 only,
# the free-text fields: addresses, notes, reasons).
PersonName100 = Annotated[StrictStr, _text(100, min_length=1), _NoNul, _NoSurrogate, _PersonName]
"""A person's name (patient, inquirer, signer): must contain a letter."""
Name100 = Annotated[StrictStr, _text(100, min_length=1), _NoNul, _NoSurrogate, _Line]
Text40 = Annotated[StrictStr, _text(40), _NoNul, _NoSurrogate, _Line]
Text100 = Annotated[StrictStr, _text(100), _NoNul, _NoSurrogate, _Line]
Text200 = Annotated[StrictStr, _text(200), _NoNul, _NoSurrogate, _Line]
Text254 = Annotated[StrictStr, _text(254), _NoNul, _NoSurrogate, _Line]
Text500 = Annotated[StrictStr, _text(500), _NoNul, _NoSurrogate, _Free]
Text5000 = Annotated[StrictStr, _text(5000), _NoNul, _NoSurrogate, _Free]
