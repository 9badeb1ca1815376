"""De-identification for the research export, pure.

Safe Harbor, 45 CFR 164.514(b)(2)(i) (outcomes.md section 6): names, contact details, record
numbers, device ids and free text are never exported; dates about the individual are reduced to
the year; ages over 89 and their birth year become one category "90 or older"; the ZIP code is
reduced to its first three digits, or 000 where that area has 20,000 people or fewer (the
census list in ``data/restricted-zip3-v1.json``); ids are HMAC-SHA256 pseudonyms under a clinic
secret (a re-identification code kept by the clinic, 164.514(c)).

Limited data set, 164.514(e): full dates are kept but shifted per patient by one random offset,
so that each patient's intervals stay as they were; a data use agreement's reference is
recorded before the export.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources

OLDEST_AGE = 89  # Safe Harbor (C): ages over 89 are aggregated into "90 or older"
NINETY_PLUS = "90 or older"
SHIFT_DAYS = 364  # REDCap's -1..-364 days (outcomes.md section 6)
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


def pseudonym(secret: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:value`` under the clinic's secret, hex."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def age_group(birth: date, day: date) -> str:
    """The age in whole years, or "90 or older"."""
    age = age_on(birth, day)
    return NINETY_PLUS if age > OLDEST_AGE else str(age)


def birth_year(birth: date, day: date) -> str:
    """The birth year, except for those over 89, whose birth year is an age element too."""
    return NINETY_PLUS if age_on(birth, day) > OLDEST_AGE else str(birth.year)


@cache
def restricted_zip3() -> frozenset[str]:
    text = resources.files(__package__).joinpath("data/restricted-zip3-v1.json").read_text("utf-8")
    return frozenset(json.loads(text)["zip3"])


def zip_from_address(address: str) -> str | None:
    """The last five-digit ZIP code in a free-text address (the text itself is never exported)."""
    found = _ZIP.findall(address or "")
    return found[-1] if found else None


def zip3(zip_code: str | None) -> str:
    """The first three digits, or 000 for a restricted area or no ZIP code."""
    if not zip_code or len(zip_code) < 3 or not zip_code[:3].isdigit():
        return "000"
    first = zip_code[:3]
    return "000" if first in restricted_zip3() else first


def year_only(moment: date | datetime) -> str:
    return str(moment.year)


def new_shift() -> timedelta:
    """One patient's date shift for a limited data set: -1 to -364 days, from a secure source."""
    return -timedelta(days=1 + secrets.randbelow(SHIFT_DAYS))


def k_anonymity(rows: Iterable[Sequence[str]]) -> int:
    """The size of the smallest group of rows sharing every quasi-identifier (0 for none)."""
    groups = Counter(tuple(row) for row in rows)
    return min(groups.values()) if groups else 0
