"""Consistency checks of an instrument definition: every way it contradicts itself.

Used by the parser (a definition with problems is refused) and by the tests of the built-in
JSON files. Pure Python, no Django import.
"""

from __future__ import annotations

from collections.abc import Sequence

from ketaclinic.scales.instruments.definition import Band, Instrument


def _band_problems(bands: Sequence[Band], low: int, high: int, path: str) -> list[str]:
    """Bands, in order, must tile ``low..high`` exactly: no gap, no overlap, none empty."""
    problems: list[str] = []
    expected = low
    for i, band in enumerate(bands):
        if band.low > band.high:
            problems.append(f"{path}[{i}]: low {band.low} is above high {band.high}")
        if band.low != expected:
            kind = "gap" if band.low > expected else "overlap"
            problems.append(f"{path}[{i}]: {kind}, starts at {band.low} instead of {expected}")
        expected = band.high + 1
    if bands and expected - 1 != high:
        problems.append(f"{path}: last band ends at {expected - 1}, the maximum total is {high}")
    return problems


def consistency_problems(instrument: Instrument) -> list[str]:
    """Every way the definition contradicts itself; empty when it is usable."""
    problems: list[str] = []
    link_ids = instrument.link_ids
    known = set(link_ids)
    if len(known) != len(link_ids):
        problems.append("$.items: link_ids are not unique")
    if not instrument.items:
        problems.append("$.items: an instrument needs at least one item")
    if not instrument.respondents:
        problems.append("$.respondents: name at least one respondent")
    for i, item in enumerate(instrument.items):
        if not item.options:
            problems.append(f"$.items[{i}]: has no answer options")
        if len(set(item.weights)) != len(item.weights):
            problems.append(f"$.items[{i}]: answer weights are not unique")
        for condition in item.enable_when:
            # Controlling items come first, so skip logic is decided in one pass, in order.
            if condition.link_id not in link_ids[:i]:
                problems.append(
                    f"$.items[{i}].enable_when: {condition.link_id!r} is not an earlier item"
                )

    for i, sub in enumerate(instrument.subscales):
        for link_id in sub.link_ids:
            if link_id not in known:
                problems.append(f"$.subscales[{i}]: names unknown item {link_id!r}")
        if len(set(sub.link_ids)) != len(sub.link_ids):
            problems.append(f"$.subscales[{i}]: names an item twice")

    scoring = instrument.scoring
    if scoring.method == "sum":
        if any(item.enable_when for item in instrument.items):
            problems.append("$.items: skip logic is only supported for risk-level instruments")
        expected_min = sum(item.min_weight for item in instrument.items if item.options)
        expected_max = sum(item.max_weight for item in instrument.items if item.options)
        if scoring.min_total != expected_min:
            problems.append(
                f"$.scoring.min_total: is {scoring.min_total}, items give {expected_min}"
            )
        if scoring.max_total != expected_max:
            problems.append(
                f"$.scoring.max_total: is {scoring.max_total}, items give {expected_max}"
            )
        if instrument.risk is not None:
            problems.append("$.risk: only for risk_level scoring")
        if expected_min == scoring.min_total and expected_max == scoring.max_total:
            problems += _band_problems(instrument.bands, expected_min, expected_max, "$.bands")
            for j, variant in enumerate(instrument.band_variants):
                problems += _band_problems(
                    variant.bands, expected_min, expected_max, f"$.band_variants[{j}].bands"
                )
    else:
        if scoring.min_total is not None or scoring.max_total is not None:
            problems.append("$.scoring: a risk-level instrument has no total")
        if instrument.risk is None:
            problems.append("$.risk: required for risk_level scoring")
        total_rules = (
            instrument.bands,
            instrument.band_variants,
            instrument.cutoffs,
            instrument.response,
            instrument.partial_response,
            instrument.remission,
            instrument.meaningful_change,
            instrument.prorating,
            instrument.subscales,
        )
        if any(rule for rule in total_rules):
            problems.append("$: bands, cut-offs and change rules need a total")

    if instrument.risk is not None:
        for i, rule in enumerate(instrument.risk.rules):
            for condition in rule.any_of:
                if condition.link_id not in known:
                    problems.append(f"$.risk.rules[{i}]: names unknown item {condition.link_id!r}")
    for i, flag in enumerate(instrument.flags):
        if flag.when.link_id not in known:
            problems.append(f"$.flags[{i}]: names unknown item {flag.when.link_id!r}")
    if instrument.partial_response is not None and instrument.response is None:
        problems.append("$.partial_response: needs a response rule")
    if instrument.prorating is not None and not (
        0 < instrument.prorating.max_missing < len(instrument.items)
    ):
        problems.append("$.prorating.max_missing: must leave at least one answered item")
    names = [variant.name for variant in instrument.band_variants]
    if len(set(names)) != len(names):
        problems.append("$.band_variants: names are not unique")
    return problems
