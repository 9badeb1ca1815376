"""The built-in definitions load, match scales.md, and are internally consistent."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import (
    BUILTIN_CODES,
    Instrument,
    InstrumentDefinitionInvalid,
    InstrumentUnknown,
    load_builtin,
    parse_instrument,
)

ALL = sorted(BUILTIN_CODES)


def _raw(code: str) -> dict[str, Any]:
    text = resources.files(instruments).joinpath(f"{code}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_every_json_file_in_the_package_is_a_builtin() -> None:
    files = {
        entry.name.removesuffix(".json")
        for entry in resources.files(instruments).iterdir()
        if entry.name.endswith(".json")
    }
    assert files == set(BUILTIN_CODES)


def test_load_builtin_gives_every_instrument_by_code() -> None:
    loaded = load_builtin()
    assert sorted(loaded) == ALL
    assert all(code == instrument.code for code, instrument in loaded.items())


def test_get_refuses_an_unknown_code() -> None:
    with pytest.raises(InstrumentUnknown):
        instruments.get("hamd17")


@pytest.mark.parametrize("code", ALL)
def test_bands_tile_the_total_range_without_gap_or_overlap(code: str) -> None:
    instrument = instruments.get(code)
    low, high = instrument.scoring.min_total, instrument.scoring.max_total
    for bands in (instrument.bands, *(v.bands for v in instrument.band_variants)):
        if not bands:
            continue
        assert low is not None and high is not None
        covered = [total for band in bands for total in range(band.low, band.high + 1)]
        assert covered == list(range(low, high + 1))


@pytest.mark.parametrize("code", ALL)
def test_total_range_is_the_sum_of_item_weights(code: str) -> None:
    instrument = instruments.get(code)
    if instrument.scoring.method == "risk_level":
        assert instrument.scoring.min_total is None and instrument.scoring.max_total is None
        return
    assert instrument.scoring.min_total == sum(item.min_weight for item in instrument.items)
    assert instrument.scoring.max_total == sum(item.max_weight for item in instrument.items)


@pytest.mark.parametrize("code", ALL)
def test_every_item_has_distinct_weighted_options(code: str) -> None:
    for item in instruments.get(code).items:
        assert item.options, item.link_id
        assert len(set(item.weights)) == len(item.weights)
        assert all(option.display.strip() for option in item.options)


@pytest.mark.parametrize("code", ALL)
def test_every_number_carries_its_source(code: str) -> None:
    instrument = instruments.get(code)
    assert instrument.source.strip() and instrument.licence.strip()
    sourced = [
        *instrument.bands,
        *(band for variant in instrument.band_variants for band in variant.bands),
        *instrument.cutoffs,
        *instrument.subscales,
        *instrument.flags,
        *(
            rule
            for rule in (
                instrument.response,
                instrument.partial_response,
                instrument.remission,
                instrument.meaningful_change,
                instrument.risk,
                instrument.prorating,
            )
            if rule is not None
        ),
    ]
    assert all(rule.source.strip() for rule in sourced)


@pytest.mark.parametrize("code", ALL)
def test_subscales_name_existing_items(code: str) -> None:
    instrument = instruments.get(code)
    for subscale in instrument.subscales:
        assert set(subscale.link_ids) <= set(instrument.link_ids)


@pytest.mark.parametrize(
    ("code", "confirmed"),
    [("ocir", False), ("cadss", False), ("gad7", True), ("phq9", True), ("cssrs_screener", True)],
)
def test_unconfirmed_scales_say_so(code: str, confirmed: bool) -> None:
    assert instruments.get(code).confirmed is confirmed


@pytest.mark.parametrize(
    ("code", "with_text"),
    [
        ("gad7", True),
        ("phq9", True),
        ("hama", True),
        ("bprs_plus", True),
        ("moaas", True),
        ("aldrete_modified", True),
        ("spin", False),
        ("lsas", False),
        ("pdss_sr", False),
        ("ybocs", False),
        ("ocir", False),
        ("cadss", False),
        ("cssrs_screener", False),
    ],
)
def test_copyrighted_scales_ship_without_item_text(code: str, with_text: bool) -> None:
    texts = [item.text for item in instruments.get(code).items]
    if with_text:
        assert all(texts)
    else:
        assert texts == [None] * len(texts)


@pytest.mark.parametrize(
    ("code", "item_count", "weights", "panel", "total"),
    [
        ("gad7", 7, (0, 1, 2, 3), "69737-5", "70274-6"),
        ("phq9", 9, (0, 1, 2, 3), "44249-1", "44261-6"),
        ("hama", 14, (0, 1, 2, 3, 4), None, None),
        ("bprs_plus", 4, (1, 2, 3, 4, 5, 6, 7), None, None),
        ("spin", 17, (0, 1, 2, 3, 4), None, None),
        ("lsas", 48, (0, 1, 2, 3), None, None),
        ("pdss_sr", 7, (0, 1, 2, 3, 4), None, None),
        ("ybocs", 10, (0, 1, 2, 3, 4), None, None),
        ("ocir", 18, (0, 1, 2, 3, 4), None, None),
        ("cadss", 23, (0, 1, 2, 3, 4), None, None),
        ("aldrete_modified", 5, (2, 1, 0), None, None),
    ],
)
def test_item_counts_ranges_and_panel_codes_match_scales_md(
    code: str, item_count: int, weights: tuple[int, ...], panel: str | None, total: str | None
) -> None:
    instrument = instruments.get(code)
    assert len(instrument.items) == item_count
    assert {item.weights for item in instrument.items} == {weights}
    assert (instrument.loinc_panel, instrument.loinc_total) == (panel, total)


def test_gad7_items_and_anchors_carry_loinc_codes() -> None:
    gad7 = instruments.get("gad7")
    assert [item.loinc for item in gad7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    for item in gad7.items:
        assert [(o.weight, o.display, o.loinc) for o in item.options] == [
            (0, "Not at all", "LA6568-5"),
            (1, "Several days", "LA6569-3"),
            (2, "More than half the days", "LA6570-1"),
            (3, "Nearly every day", "LA6571-9"),
        ]


def test_phq9_items_carry_loinc_codes_and_item_9_is_last() -> None:
    phq9 = instruments.get("phq9")
    assert [item.loinc for item in phq9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert phq9.item("9").loinc == "44260-8"


def test_cssrs_items_carry_loinc_codes_and_skip_logic() -> None:
    cssrs = instruments.get("cssrs_screener")
    assert [(item.link_id, item.loinc) for item in cssrs.items] == [
        ("1", "93246-7"),
        ("2", "93247-5"),
        ("3", "93248-3"),
        ("4", "93249-1"),
        ("5", "93250-9"),
        ("6", "93267-3"),
        ("6.recent", "93269-9"),
    ]
    asked_always = [item.link_id for item in cssrs.items if not item.enable_when]
    assert asked_always == ["1", "2", "6"]
    assert cssrs.risk is not None and cssrs.risk.loinc == "93374-7"
    assert cssrs.risk.levels == ("high", "moderate", "low", "none")


def test_hama_subscales_are_psychic_1_to_6_and_14_somatic_7_to_13() -> None:
    subscales = {s.name: s.link_ids for s in instruments.get("hama").subscales}
    assert subscales == {
        "psychic": ("1", "2", "3", "4", "5", "6", "14"),
        "somatic": ("7", "8", "9", "10", "11", "12", "13"),
    }


def test_spin_ships_without_subscales() -> None:
    spin = instruments.get("spin")
    assert spin.subscales == ()
    assert any("subscales are not built in" in note for note in spin.notes)


def test_nothing_is_prorated_without_a_manual_rule() -> None:
    assert all(instrument.prorating is None for instrument in load_builtin().values())


# --- the parser refuses broken definitions -------------------------------------------------


def _problems(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(InstrumentDefinitionInvalid) as caught:
        parse_instrument(data)
    return caught.value.problems


def test_parser_reports_a_gap_between_bands() -> None:
    data = _raw("gad7")
    data["bands"][1]["low"] = 6
    assert any("gap" in problem for problem in _problems(data))


def test_parser_reports_overlapping_bands() -> None:
    data = _raw("gad7")
    data["bands"][1]["low"] = 4
    assert any("overlap" in problem for problem in _problems(data))


def test_parser_reports_bands_short_of_the_maximum() -> None:
    data = _raw("gad7")
    data["bands"][-1]["high"] = 20
    assert any("last band ends at 20" in problem for problem in _problems(data))


def test_parser_reports_every_structural_problem_with_its_path() -> None:
    data = _raw("phq9")
    data["surprise"] = 1
    del data["source"]
    data["bands"][0]["low"] = "0"
    data["response"]["percent_drop"] = 50.0
    problems = _problems(data)
    assert "$.surprise: is not a known field" in problems
    assert "$.source: is required" in problems
    assert "$.bands[0].low: must be an integer" in problems
    assert any(p.startswith("$.response.percent_drop: must be a decimal") for p in problems)


def test_parser_reports_a_wrong_total_range_and_unknown_subscale_items() -> None:
    data = _raw("hama")
    data["scoring"]["max_total"] = 55
    data["subscales"][0]["link_ids"].append("15")
    problems = _problems(data)
    assert any(p.startswith("$.scoring.max_total: is 55") for p in problems)
    assert any("unknown item '15'" in p for p in problems)


def test_parser_refuses_skip_logic_on_a_later_item() -> None:
    data = _raw("cssrs_screener")
    data["items"][0]["enable_when"] = [{"link_id": "2", "comparator": "==", "value": 1}]
    assert any("is not an earlier item" in p for p in _problems(data))


def test_parser_builds_a_frozen_instrument() -> None:
    instrument = parse_instrument(copy.deepcopy(_raw("gad7")))
    assert isinstance(instrument, Instrument)
    with pytest.raises(AttributeError):
        instrument.code = "other"  # type: ignore[misc]
