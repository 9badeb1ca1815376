"""Small validators for JSON data: each returns the parsed value or None and records why.

Shared by the rule-set, dose-table and evaluation readers so that every refusal names its path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from ketaclinic.eligibility.rules.model import Vitals

T = TypeVar("T")

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
# ICD-10-CM: a letter, a digit, a digit or letter, then up to four characters after the dot;
# any leading part of that is a valid prefix ("F", "F4", "F41", "F41.1").
ICD_PREFIX_RE = re.compile(r"^[A-Z]([0-9]([0-9A-Z](\.?[0-9A-Z]{1,4})?)?)?$")
WHOLE_VITALS = ("systolic", "diastolic", "heart_rate", "spo2")
ALL_VITALS = tuple(f.name for f in fields(Vitals))


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}" if path else message)


def check_object(
    value: object,
    path: str,
    problems: Problems,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """A JSON object with all required keys and no unknown ones, else None."""
    if not isinstance(value, dict):
        problems.add(path, f"must be an object, not {type(value).__name__}")
        return None
    ok = True
    for key in required:
        if key not in value:
            problems.add(path, f"missing {key!r}")
            ok = False
    for key in value:
        if key not in required and key not in optional:
            problems.add(path, f"unknown key {key!r}; expected {', '.join(required + optional)}")
            ok = False
    return value if ok else None


def check_text(value: object, path: str, problems: Problems, *, empty: bool = False) -> str | None:
    if not isinstance(value, str) or (not empty and not value.strip()):
        problems.add(path, "must be a non-empty string" if not empty else "must be a string")
        return None
    return value


def check_code(value: object, path: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not CODE_RE.match(value):
        problems.add(path, f"must be a snake_case code (a-z, 0-9, _), not {value!r}")
        return None
    return value


def check_whole(value: object, path: str, problems: Problems, *, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, f"must be a whole number, not {value!r}")
        return None
    if value < minimum:
        problems.add(path, f"must be at least {minimum}, not {value}")
        return None
    return value


def check_threshold(value: object, path: str, problems: Problems) -> Decimal | None:
    """A positive clinical threshold: a whole number or a decimal string, never a float."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.add(path, f"must be a whole number or a decimal string, not {value!r}")
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        problems.add(path, f"must be a decimal number, not {value!r}")
        return None
    if not number.is_finite() or number <= 0:
        problems.add(path, f"must be a positive number, not {value!r}")
        return None
    return number


def check_list(
    value: object,
    path: str,
    problems: Problems,
    item: Callable[[object, str, Problems], T | None],
    *,
    empty: bool = False,
) -> tuple[T, ...] | None:
    if not isinstance(value, list) or (not empty and not value):
        problems.add(path, "must be a non-empty list" if not empty else "must be a list")
        return None
    out: list[T] = []
    ok = True
    for index, element in enumerate(value):
        parsed = item(element, f"{path}[{index}]", problems)
        if parsed is None:
            ok = False
        else:
            out.append(parsed)
    return tuple(out) if ok else None


def check_icd_prefix(value: object, path: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not ICD_PREFIX_RE.match(value.strip().upper()):
        problems.add(path, f"must be an ICD-10-CM code or prefix such as 'F41', not {value!r}")
        return None
    return value.strip().upper()


def check_amount(value: object, path: str, problems: Problems) -> Decimal | None:
    """A measured amount (dose, weeks, weight): number or decimal string; floats via str."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.add(path, f"must be a number, not {value!r}")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add(path, f"must be a number, not {value!r}")
        return None
    if not number.is_finite() or number < 0:
        problems.add(path, f"must be a number at least 0, not {value!r}")
        return None
    return number


def check_optional_whole(value: object, path: str, problems: Problems) -> int | None:
    if value is None:
        return None
    return check_whole(value, path, problems, minimum=0)
