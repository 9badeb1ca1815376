"""The anonymous self-screen (GAD-7, PHQ-9): scored by the scales' pure scoring, never here.

A self-screen is the answers a member of the public gave on the public site; the scores shown
to them and the record kept with an inquiry are always recomputed from those answers with
``ketaclinic.scales.scoring.score``, so a posted total is never trusted. Pure Python, no
Django import: the site's views, the inquiry service and the API call these.

A stored record is ``{"instrument", "answers", "total", "band"}`` plus, for an instrument with
a suicide-risk flag rule (PHQ-9 item 9), ``"item9_positive"``, and ``"taken_at"`` (ISO 8601,
with offset) when it is known when the person answered (the result page's token says).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Band, Instrument
from ketaclinic.scales.scoring import RaisedFlag, ResponseInvalid, flags_raised, score

SELF_SCREEN_CODES: Final = ("gad7", "phq9")
"""The instruments a member of the public may take anonymously (free to use, self-report)."""

SHORT_NAMES: Final = {"gad7": "GAD-7", "phq9": "PHQ-9"}
TOPICS: Final = {"gad7": "anxiety", "phq9": "depression"}
SUICIDE_RISK_FLAG: Final = "suicide_risk"
"""The flag code of PHQ-9 item 9 in the instrument's definition (``phq9.json``)."""

_COMPARATOR_WORDS: Final = {
    ">=": "{} or more",
    ">": "more than {}",
    "==": "exactly {}",
    "<=": "{} or less",
    "<": "less than {}",
}

REQUIRED_RECORD_KEYS: Final = frozenset({"instrument", "answers", "total", "band"})
RECORD_KEYS: Final = REQUIRED_RECORD_KEYS | {"item9_positive", "taken_at"}


class SelfScreenInvalid(ValueError):
    """Self-screen input that cannot be scored; ``problems`` maps a field path (such as
    ``0.answers.9`` or ``1.instrument``) to its message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in self.problems.items()))


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """One scored self-screen questionnaire."""

    instrument: Instrument
    answers: Mapping[str, int]
    total: int
    band: str
    cutoffs_met: tuple[str, ...]
    flags: tuple[RaisedFlag, ...]
    taken_at: datetime | None = None

    @property
    def code(self) -> str:
        return self.instrument.code

    @property
    def short_name(self) -> str:
        return SHORT_NAMES[self.code]

    @property
    def topic(self) -> str:
        return TOPICS[self.code]

    @property
    def max_total(self) -> int:
        return self.instrument.scoring.max_total or 0

    @property
    def band_phrase(self) -> str:
        """The band label in words: ``none-minimal`` reads ``none to minimal``."""
        return self.band.replace("-", " to ")

    @property
    def bands(self) -> tuple[Band, ...]:
        return self.instrument.bands

    @property
    def band_rows(self) -> list[tuple[int, int, str, bool]]:
        """Each band as (low, high, label in words, whether the total is in it)."""
        return [
            (band.low, band.high, band.label.replace("-", " to "), band.label == self.band)
            for band in self.bands
        ]

    @property
    def cutoff_phrases(self) -> list[str]:
        """The cut-offs the total meets, in words: ``10 or more (screen positive)``."""
        return [
            f"{_COMPARATOR_WORDS[cutoff.comparator].format(cutoff.value)} ({cutoff.label})"
            for cutoff in self.instrument.cutoffs
            if cutoff.label in self.cutoffs_met
        ]

    @property
    def urgent_flags(self) -> tuple[RaisedFlag, ...]:
        return tuple(flag for flag in self.flags if flag.severity == "urgent")

    @property
    def has_suicide_risk_rule(self) -> bool:
        return any(flag.code == SUICIDE_RISK_FLAG for flag in self.instrument.flags)

    @property
    def item9_positive(self) -> bool | None:
        """PHQ-9 item 9 above 0 (its flag rule held); None for an instrument without the rule."""
        if not self.has_suicide_risk_rule:
            return None
        return any(flag.code == SUICIDE_RISK_FLAG for flag in self.flags)

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "instrument": self.code,
            "answers": {
                link_id: self.answers[link_id]
                for link_id in self.instrument.link_ids
                if link_id in self.answers
            },
            "total": self.total,
            "band": self.band,
        }
        if self.item9_positive is not None:
            record["item9_positive"] = self.item9_positive
        if self.taken_at is not None:
            record["taken_at"] = self.taken_at.isoformat()
        return record


def self_screen_instrument(code: str) -> Instrument:
    """The built-in definition of a self-screen instrument; ``KeyError`` for any other code."""
    if code not in SELF_SCREEN_CODES:
        raise KeyError(code)
    return instruments.get(code)


def self_screen_score(code: str, answers: Mapping[str, int]) -> ScreenResult:
    """Score one questionnaire. ``KeyError`` for an instrument that is not a self-screen;
    ``ResponseInvalid`` (every problem, missing items included) for an incomplete response."""
    instrument = self_screen_instrument(code)
    result = score(instrument, answers)
    if result.total is None or result.band is None:  # both self-screens are banded sums
        raise ValueError(f"{code} has no banded total")
    return ScreenResult(
        instrument=instrument,
        answers=dict(answers),
        total=result.total,
        band=result.band,
        cutoffs_met=result.cutoffs_met,
        flags=result.flags,
    )


def self_screen_urgent_flags(code: str, answers: Mapping[str, int]) -> tuple[RaisedFlag, ...]:
    """The urgent flags the answers given raise, complete or not: a flag rule holds whatever
    the total (PHQ-9 item 9), so an incomplete self-screen still shows the crisis notice.
    ``KeyError`` for an instrument that is not a self-screen."""
    raised = flags_raised(self_screen_instrument(code), answers)
    return tuple(flag for flag in raised if flag.severity == "urgent")


def self_screen_score_all(entries: Sequence[Mapping[str, Any]]) -> list[ScreenResult]:
    """Score ``[{"instrument": code, "answers": {link_id: weight}}, ...]``, in that order;
    an entry may say when it was answered (``"taken_at"``, ISO 8601 with offset).

    Raises ``SelfScreenInvalid`` with every problem at once, by path: an unknown or repeated
    instrument, answers that are not a mapping, and every item problem the scoring reports.
    """
    problems: dict[str, str] = {}
    results: list[ScreenResult] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        code = entry.get("instrument")
        answers = entry.get("answers")
        if not isinstance(code, str) or code not in SELF_SCREEN_CODES:
            allowed = ", ".join(SELF_SCREEN_CODES)
            problems[f"{index}.instrument"] = f"must be one of {allowed}"
            continue
        if code in seen:
            problems[f"{index}.instrument"] = f"{code} is listed twice"
            continue
        seen.add(code)
        if not isinstance(answers, Mapping):
            problems[f"{index}.answers"] = "must be an object of item: answer"
            continue
        if "taken_at" in entry and record_taken_at(entry) is None:
            problems[f"{index}.taken_at"] = "must be a date and time with an offset"
            continue
        try:
            result = self_screen_score(code, answers)
            results.append(replace(result, taken_at=record_taken_at(entry)))
        except ResponseInvalid as invalid:
            for problem in invalid.problems:
                problems[f"{index}.answers.{problem.link_id}"] = problem.message
    if problems:
        raise SelfScreenInvalid(problems)
    return results


def self_screen_record_problems(value: Any) -> list[str]:
    """What is wrong with the shape of stored self-screen records.

    Only the shape: the scores themselves are computed by ``self_screen_score_all`` when an
    inquiry is created, and a stored record stays what the scoring gave at that time, even if
    an instrument's definition changes later.
    """
    if not isinstance(value, list):
        return ["must be a list"]
    problems: list[str] = []
    for index, record in enumerate(value):
        if not isinstance(record, dict):
            problems.append(f"{index}: must be an object")
            continue
        unknown = sorted(set(record) - RECORD_KEYS)
        if unknown:
            problems.append(f"{index}: unknown keys {', '.join(unknown)}")
        missing = sorted(REQUIRED_RECORD_KEYS - set(record))
        if missing:
            problems.append(f"{index}: missing {', '.join(missing)}")
        if record.get("instrument") not in SELF_SCREEN_CODES:
            problems.append(f"{index}.instrument: must be one of {', '.join(SELF_SCREEN_CODES)}")
        answers = record.get("answers")
        if not isinstance(answers, dict) or not all(
            isinstance(k, str) and _is_int(v) for k, v in answers.items()
        ):
            problems.append(f"{index}.answers: must be an object of item: answer")
        if not _is_int(record.get("total")):
            problems.append(f"{index}.total: must be an integer")
        if not isinstance(record.get("band"), str):
            problems.append(f"{index}.band: must be text")
        if not isinstance(record.get("item9_positive", False), bool):
            problems.append(f"{index}.item9_positive: must be true or false")
        if "taken_at" in record and record_taken_at(record) is None:
            problems.append(f"{index}.taken_at: must be a date and time with an offset")
    return problems


def record_taken_at(record: Mapping[str, Any]) -> datetime | None:
    """When the person answered the stored self-screen ``record``; None when not known."""
    value = record.get("taken_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def self_screen_summaries(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stored records as the staff list shows them (short name, total of maximum, band)."""
    summaries: list[dict[str, Any]] = []
    for record in records:
        code = str(record.get("instrument", ""))
        high = instruments.get(code).scoring.max_total if code in SELF_SCREEN_CODES else None
        summaries.append(
            {
                "name": SHORT_NAMES.get(code, code),
                "total": record.get("total"),
                "max_total": high,
                "band": str(record.get("band", "")).replace("-", " to "),
                "item9_positive": record.get("item9_positive") is True,
            }
        )
    return summaries
