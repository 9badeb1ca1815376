"""Search parameters as FHIR R4 defines them (http://hl7.org/fhir/R4/search.html), parsed
once: date ranges with prefixes, tokens (``system|code``), references (``Type/id``), the
result parameters ``_count``, ``_sort``, ``_summary``, and ``Prefer: handling``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from ketaclinic.fhir.outcome import Issue

DEFAULT_COUNT = 20
MAX_COUNT = 200  # larger requests are served 200 at a time (FHIR allows a smaller page)

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
SUPPORTED_DATE_PREFIXES = ("eq", "gt", "lt", "ge", "le")
# Result and format parameters every search accepts (they are not filters).
# _include and _revinclude are read by ketaclinic/fhir/include.py.
RESULT_PARAMS = (
    "_count",
    "_sort",
    "_summary",
    "_total",
    "_format",
    "_cursor",
    "_include",
    "_revinclude",
)


class Kind(StrEnum):
    DATE = "date"
    TOKEN = "token"  # noqa: S105  a FHIR search parameter type, not a secret
    REFERENCE = "reference"
    STRING = "string"
    URI = "uri"


@dataclass(frozen=True, slots=True)
class DateRange:
    """One date parameter: the value covers [start, end); ``prefix`` says how to compare."""

    prefix: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Token:
    system: str | None
    code: str


_PARTIAL = re.compile(
    r"^(?P<y>\d{4})(-(?P<m>\d{2})(-(?P<d>\d{2})(T(?P<h>\d{2}):(?P<mi>\d{2})"
    r"(:(?P<s>\d{2})(\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def date_range(raw: str) -> DateRange:
    """``ge2026-01-05`` -> prefix ``ge`` over the whole day (UTC when no zone is given).

    Raises ValueError with a sentence for a bad value."""
    prefix = raw[:2] if raw[:2] in DATE_PREFIXES else "eq"
    value = raw[2:] if raw[:2] in DATE_PREFIXES else raw
    if prefix not in SUPPORTED_DATE_PREFIXES:
        raise ValueError(f"the prefix {prefix!r} is not supported (use eq, gt, lt, ge or le)")
    found = _PARTIAL.match(value)
    if found is None:
        raise ValueError(f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)")
    g = found.groupdict()
    try:
        if g["h"] is not None:
            text = value.replace("Z", "+00:00")
            start = datetime.fromisoformat(text)
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
            precision = timedelta(seconds=1) if g["s"] is not None else timedelta(minutes=1)
            return DateRange(prefix, start, start + precision)
        year = int(g["y"])
        if g["m"] is None:
            first, after = date(year, 1, 1), date(year + 1, 1, 1)
        elif g["d"] is None:
            first = date(year, int(g["m"]), 1)
            after = _add_months(first, 1)
        else:
            first = date(year, int(g["m"]), int(g["d"]))
            after = first + timedelta(days=1)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None
    return DateRange(
        prefix,
        datetime.combine(first, time(), tzinfo=UTC),
        datetime.combine(after, time(), tzinfo=UTC),
    )


def token(raw: str) -> Token:
    """``system|code`` -> Token(system, code); ``code`` -> any system; ``|code`` -> no system."""
    if "|" in raw:
        system, code = raw.split("|", 1)
        return Token(system, code)
    return Token(None, raw)


def reference(raw: str, resource_type: str) -> str:
    """``Patient/abc``, ``abc`` or an absolute URL ending in ``Patient/abc`` -> ``abc``."""
    tail = raw.rstrip("/").rsplit("/", 2)
    if len(tail) >= 2 and tail[-2] == resource_type:
        return tail[-1]
    if len(tail) >= 2 and "/" in raw:
        raise ValueError(f"expected a reference to a {resource_type}, got {raw!r}")
    return raw


class Handling(StrEnum):
    STRICT = "strict"
    LENIENT = "lenient"


def handling(prefer_header: str) -> Handling:
    """``Prefer: handling=strict`` (RFC 7240 tokens, any order); lenient by default."""
    for part in prefer_header.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "handling" and value.strip().strip('"').lower() == "strict":
            return Handling.STRICT
    return Handling.LENIENT


@dataclass(frozen=True, slots=True)
class ResultParams:
    count: int
    sort: tuple[str, bool] | None  # (parameter name, descending)
    summary_count: bool


@dataclass(slots=True)
class Parsed:
    """A request's parameters split into what is applied, what is ignored and what is wrong."""

    filters: dict[str, list[str]] = field(default_factory=dict)  # name[:modifier] -> values
    result: ResultParams = ResultParams(DEFAULT_COUNT, None, False)
    ignored: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)


def result_params(
    values: dict[str, list[str]], sortable: tuple[str, ...], parsed: Parsed
) -> ResultParams:
    count = DEFAULT_COUNT
    raw_count = values.get("_count", [])
    if raw_count:
        if not raw_count[-1].isdigit():
            parsed.errors.append(Issue("value", "_count is a whole number (0 or more)", "_count"))
        else:
            count = min(int(raw_count[-1]), MAX_COUNT)
    sort = None
    raw_sort = values.get("_sort", [])
    if raw_sort and raw_sort[-1]:
        keys = raw_sort[-1].split(",")
        first = keys[0]
        name, descending = first.removeprefix("-"), first.startswith("-")
        if name not in sortable:
            parsed.errors.append(
                Issue(
                    "not-supported",
                    f"_sort by {name!r} is not supported (one of: {', '.join(sortable)})",
                    "_sort",
                )
            )
        elif len(keys) > 1:
            parsed.errors.append(Issue("not-supported", "_sort takes one key here", "_sort"))
        else:
            sort = (name, descending)
    summary = values.get("_summary", [])
    summary_count = False
    if summary:
        if summary[-1] == "count":
            summary_count = True
        elif summary[-1] != "false":
            parsed.ignored.append(
                Issue(
                    "not-supported",
                    f"_summary={summary[-1]} is not supported (count or false); "
                    "full resources are returned",
                    "_summary",
                    severity="warning",
                )
            )
    return ResultParams(count, sort, summary_count)
