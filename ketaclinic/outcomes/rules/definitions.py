"""Outcome definitions as versioned data: thresholds per measure, each with its source.

The shipped set is ``data/definitions-v1.json`` (copied from the domain notes, sources cited per
measure). A clinic may load its own set with another version; every figure carries the
``OutcomeDefinitions.label`` (id and version) of the set that produced it.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

# Jacobson & Truax 1991: |RC| > 1.96 is reliable (outcomes.md section 2).
JT_Z = 1.96

# Measures every course is counted on, whether or not they were given (a course that never had
# one is "started, no data": the missing must show).
CORE_MEASURES = ("gad7", "phq9")


@dataclass(frozen=True)
class JacobsonTruax:
    sd: float
    reliability: float
    source: str

    @property
    def s_diff(self) -> float:
        """S_diff = SD_pre * sqrt(2) * sqrt(1 - r) (Jacobson & Truax 1991, Christensen &
        Mendoza 1986)."""
        return self.sd * math.sqrt(2.0) * math.sqrt(1.0 - self.reliability)

    @property
    def points(self) -> float:
        """The change in points that is reliable: 1.96 * S_diff."""
        return JT_Z * self.s_diff


@dataclass(frozen=True)
class MeasureDefinition:
    code: str
    name: str
    response_fall_percent: int
    remission_at_most: int
    remission_text: str
    caseness_at_least: int | None
    reliable_change_points: int | None
    jacobson_truax: JacobsonTruax | None
    source: str


@dataclass(frozen=True)
class FollowUp:
    code: str
    label: str
    days_from: int
    days_to: int
    anchor: str  # "last_infusion" or "first_infusion"
    source: str


@dataclass(frozen=True)
class Disorder:
    code: str
    label: str
    icd10_prefixes: tuple[str, ...]
    specific_measures: tuple[str, ...]


@dataclass(frozen=True)
class OutcomeDefinitions:
    id: str
    version: int
    baseline_window_days: int
    measures: dict[str, MeasureDefinition]
    follow_ups: tuple[FollowUp, ...]
    disorders: dict[str, Disorder]

    @property
    def label(self) -> str:
        """What every figure says produced it, e.g. ``ketaclinic-outcomes v1``."""
        return f"{self.id} v{self.version}"

    def measure(self, code: str) -> MeasureDefinition:
        try:
            return self.measures[code]
        except KeyError:
            raise KeyError(f"no outcome definition for measure {code!r}") from None

    def disorder_of(self, diagnoses: list[str] | tuple[str, ...]) -> str | None:
        """The first disorder whose ICD-10-CM prefix matches a diagnosis (dots and case
        ignored), in the order the diagnoses were listed; None when none matches."""
        for diagnosis in diagnoses:
            code = diagnosis.replace(".", "").upper()
            for disorder in self.disorders.values():
                for prefix in disorder.icd10_prefixes:
                    if code.startswith(prefix.replace(".", "").upper()):
                        return disorder.code
        return None


def definitions_from_dict(data: dict[str, Any]) -> OutcomeDefinitions:
    measures: dict[str, MeasureDefinition] = {}
    for code, m in data["measures"].items():
        jt = m.get("jacobson_truax")
        measures[code] = MeasureDefinition(
            code=code,
            name=str(m["name"]),
            response_fall_percent=int(m["response_fall_percent"]),
            remission_at_most=int(m["remission_at_most"]),
            remission_text=str(m["remission_text"]),
            caseness_at_least=(
                None if m.get("caseness_at_least") is None else int(m["caseness_at_least"])
            ),
            reliable_change_points=(
                None
                if m.get("reliable_change_points") is None
                else int(m["reliable_change_points"])
            ),
            jacobson_truax=(
                None
                if jt is None
                else JacobsonTruax(
                    sd=float(jt["sd"]),
                    reliability=float(jt["reliability"]),
                    source=str(jt["reliability_source"]),
                )
            ),
            source=str(m["source"]),
        )
    follow_ups = tuple(
        FollowUp(
            code=str(f["code"]),
            label=str(f["label"]),
            days_from=int(f["days_from"]),
            days_to=int(f["days_to"]),
            anchor=str(f.get("anchor", "last_infusion")),
            source=str(f["source"]),
        )
        for f in data["follow_ups"]
    )
    disorders = {
        code: Disorder(
            code=code,
            label=str(d["label"]),
            icd10_prefixes=tuple(d["icd10_prefixes"]),
            specific_measures=tuple(d["specific_measures"]),
        )
        for code, d in data["disorders"].items()
    }
    return OutcomeDefinitions(
        id=str(data["id"]),
        version=int(data["version"]),
        baseline_window_days=int(data["baseline_window_days"]),
        measures=measures,
        follow_ups=follow_ups,
        disorders=disorders,
    )


@functools.cache
def shipped_definitions() -> OutcomeDefinitions:
    """The definitions KetaClinic ships (version 1), read once per process (frozen: the
    patient page asks for them twice per request)."""
    text = resources.files(__package__).joinpath("data/definitions-v1.json").read_text("utf-8")
    return definitions_from_dict(json.loads(text))
