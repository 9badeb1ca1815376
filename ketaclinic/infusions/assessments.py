"""The dissociation and sedation assessments the chart accepts during a session, with their
ranges from data: the CADSS and MOAA/S from the scales' instrument definitions (their scoring's
total range and source), the single 0-4 dissociation rating from the session's protocol. Pure:
no Django; the instrument definitions are passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ketaclinic.infusions.protocols import Protocol
from ketaclinic.scales.instruments.definition import Instrument

ASSESSMENT_INSTRUMENTS = ("cadss", "dissociation_0_4", "moaas")
"""Every assessment the chart knows, in the order the form offers them."""
DISSOCIATION_RATING = "dissociation_0_4"
"""The protocol's own single rating; the others are the scales' instruments of the same code."""


@dataclass(frozen=True)
class AssessmentRange:
    low: int
    high: int
    source: str

    def contains(self, score: int) -> bool:
        return self.low <= score <= self.high


def assessment_ranges(
    protocol: Protocol, instrument: Callable[[str], Instrument]
) -> dict[str, AssessmentRange]:
    """The accepted score range of each assessment this protocol offers, in form order."""
    ranges: dict[str, AssessmentRange] = {}
    for code in ASSESSMENT_INSTRUMENTS:
        if code == DISSOCIATION_RATING:
            rating = protocol.monitoring.dissociation_rating
            if rating is not None:
                ranges[code] = AssessmentRange(
                    low=int(rating.value.low), high=int(rating.value.high), source=rating.source
                )
            continue
        definition = instrument(code)
        low, high = definition.scoring.min_total, definition.scoring.max_total
        if low is None or high is None:
            raise ValueError(f"{code}: the instrument has no total range")
        ranges[code] = AssessmentRange(low=low, high=high, source=definition.source)
    return ranges
