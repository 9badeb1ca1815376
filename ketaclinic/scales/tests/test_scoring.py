"""Scoring: every band boundary, subscales, refusals, skip logic, flags and a property test."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument, ProratingRule
from ketaclinic.scales.scoring import (
    ResponseInvalid,
    RuleNotDefined,
    TotalOutOfRange,
    band_for,
    score,
)

SUMMED = sorted(
    code
    for code, instrument in instruments.load_builtin().items()
    if instrument.scoring.method == "sum"
)


def answers_for_total(instrument: Instrument, total: int) -> dict[str, int]:
    """A complete response adding up to ``total``: items filled from the first, greedily."""
    answers = {item.link_id: item.min_weight for item in instrument.items}
    rest = total - sum(answers.values())
    for item in instrument.items:
        step = min(rest, item.max_weight - item.min_weight)
        answers[item.link_id] += step
        rest -= step
    assert rest == 0, "total out of range"
    return answers


# Every boundary of every banded instrument, both sides, from scales.md.
BOUNDARIES: list[tuple[str, str | None, int, str]] = [
    ("gad7", None, 0, "minimal"),
    ("gad7", None, 4, "minimal"),
    ("gad7", None, 5, "mild"),
    ("gad7", None, 9, "mild"),
    ("gad7", None, 10, "moderate"),
    ("gad7", None, 14, "moderate"),
    ("gad7", None, 15, "severe"),
    ("gad7", None, 21, "severe"),
    ("phq9", None, 0, "none-minimal"),
    ("phq9", None, 4, "none-minimal"),
    ("phq9", None, 5, "mild"),
    ("phq9", None, 9, "mild"),
    ("phq9", None, 10, "moderate"),
    ("phq9", None, 14, "moderate"),
    ("phq9", None, 15, "moderately severe"),
    ("phq9", None, 19, "moderately severe"),
    ("phq9", None, 20, "severe"),
    ("phq9", None, 27, "severe"),
    ("hama", None, 0, "none or minimal"),
    ("hama", None, 7, "none or minimal"),
    ("hama", None, 8, "mild"),
    ("hama", None, 14, "mild"),
    ("hama", None, 15, "moderate"),
    ("hama", None, 23, "moderate"),
    ("hama", None, 24, "severe"),
    ("hama", None, 56, "severe"),
    ("spin", None, 0, "none or very mild"),
    ("spin", None, 20, "none or very mild"),
    ("spin", None, 21, "mild"),
    ("spin", None, 30, "mild"),
    ("spin", None, 31, "moderate"),
    ("spin", None, 40, "moderate"),
    ("spin", None, 41, "severe"),
    ("spin", None, 50, "severe"),
    ("spin", None, 51, "very severe"),
    ("spin", None, 68, "very severe"),
    ("lsas", None, 0, "below the social anxiety disorder cut-off"),
    ("lsas", None, 29, "below the social anxiety disorder cut-off"),
    ("lsas", None, 30, "social anxiety disorder likely"),
    ("lsas", None, 59, "social anxiety disorder likely"),
    ("lsas", None, 60, "generalized social anxiety disorder likely"),
    ("lsas", None, 144, "generalized social anxiety disorder likely"),
    ("pdss_sr", None, 0, "normal"),
    ("pdss_sr", None, 1, "normal"),
    ("pdss_sr", None, 2, "borderline ill"),
    ("pdss_sr", None, 5, "borderline ill"),
    ("pdss_sr", None, 6, "slightly ill"),
    ("pdss_sr", None, 9, "slightly ill"),
    ("pdss_sr", None, 10, "moderately ill"),
    ("pdss_sr", None, 13, "moderately ill"),
    ("pdss_sr", None, 14, "markedly ill"),
    ("pdss_sr", None, 28, "markedly ill"),
    ("pdss_sr", "with_agoraphobia", 0, "normal"),
    ("pdss_sr", "with_agoraphobia", 2, "normal"),
    ("pdss_sr", "with_agoraphobia", 3, "borderline ill"),
    ("pdss_sr", "with_agoraphobia", 7, "borderline ill"),
    ("pdss_sr", "with_agoraphobia", 8, "slightly ill"),
    ("pdss_sr", "with_agoraphobia", 10, "slightly ill"),
    ("pdss_sr", "with_agoraphobia", 11, "moderately ill"),
    ("pdss_sr", "with_agoraphobia", 15, "moderately ill"),
    ("pdss_sr", "with_agoraphobia", 16, "markedly ill"),
    ("pdss_sr", "with_agoraphobia", 28, "markedly ill"),
    ("ybocs", None, 0, "subclinical"),
    ("ybocs", None, 7, "subclinical"),
    ("ybocs", None, 8, "mild"),
    ("ybocs", None, 15, "mild"),
    ("ybocs", None, 16, "moderate"),
    ("ybocs", None, 23, "moderate"),
    ("ybocs", None, 24, "severe"),
    ("ybocs", None, 31, "severe"),
    ("ybocs", None, 32, "extreme"),
    ("ybocs", None, 40, "extreme"),
]


@pytest.mark.parametrize(("code", "variant", "total", "label"), BOUNDARIES)
def test_band_for_puts_each_boundary_on_its_side(
    code: str, variant: str | None, total: int, label: str
) -> None:
    band = band_for(instruments.get(code), total, variant)
    assert band is not None and band.label == label


@pytest.mark.parametrize(
    ("code", "total", "label"), [(c, t, lbl) for c, v, t, lbl in BOUNDARIES if v is None]
)
def test_score_reports_the_band_of_a_complete_response(code: str, total: int, label: str) -> None:
    instrument = instruments.get(code)
    result = score(instrument, answers_for_total(instrument, total))
    assert (result.total, result.band) == (total, label)


def test_every_banded_instrument_has_its_boundaries_tested() -> None:
    banded = {code for code in SUMMED if instruments.get(code).bands}
    assert banded == {code for code, _, _, _ in BOUNDARIES}


@pytest.mark.parametrize(
    ("code", "total"),
    [
        ("gad7", -1),
        ("gad7", 22),
        ("phq9", 28),
        ("hama", 57),
        ("spin", 69),
        ("lsas", 145),
        ("pdss_sr", 29),
        ("ybocs", 41),
        ("bprs_plus", 3),
        ("bprs_plus", 29),
    ],
)
def test_band_for_refuses_a_total_out_of_range(code: str, total: int) -> None:
    with pytest.raises(TotalOutOfRange):
        band_for(instruments.get(code), total)


def test_band_for_is_none_without_bands() -> None:
    assert band_for(instruments.get("ocir"), 30) is None


def test_band_for_refuses_an_unknown_variant() -> None:
    with pytest.raises(KeyError):
        band_for(instruments.get("pdss_sr"), 3, "with_panic")


def test_band_for_refuses_an_instrument_without_total() -> None:
    with pytest.raises(RuleNotDefined):
        band_for(instruments.get("cssrs_screener"), 0)


# --- subscales -------------------------------------------------------------------------------


def test_hama_subscales_sum_their_items() -> None:
    hama = instruments.get("hama")
    answers = {str(i): 0 for i in range(1, 15)} | {"1": 4, "6": 3, "14": 2, "7": 1, "13": 4}
    result = score(hama, answers)
    assert result.subscales == {"psychic": 9, "somatic": 5}
    assert result.total == 14


def test_ybocs_obsessions_and_compulsions() -> None:
    answers = {str(i): i % 5 for i in range(1, 11)}  # 1,2,3,4,0 | 1,2,3,4,0
    result = score(instruments.get("ybocs"), answers)
    assert result.subscales == {"obsessions": 10, "compulsions": 10}
    assert result.total == 20


def test_lsas_fear_and_avoidance() -> None:
    answers = {f"{i}.fear": 3 for i in range(1, 25)} | {f"{i}.avoidance": 1 for i in range(1, 25)}
    result = score(instruments.get("lsas"), answers)
    assert result.subscales == {"fear": 72, "avoidance": 24}
    assert (result.total, result.band) == (96, "generalized social anxiety disorder likely")


def test_ocir_hoarding_subscale() -> None:
    answers = {str(i): 0 for i in range(1, 19)} | {"1": 4, "7": 3, "13": 2, "2": 4}
    result = score(instruments.get("ocir"), answers)
    assert result.subscales == {"hoarding": 9}
    assert result.total == 13


def test_bprs_plus_is_stored_on_the_1_to_7_convention() -> None:
    bprs = instruments.get("bprs_plus")
    lowest = {item.link_id: 1 for item in bprs.items}
    assert score(bprs, lowest).total == 4
    with pytest.raises(ResponseInvalid) as caught:
        score(bprs, {**lowest, "hallucinations": 0})
    assert [(p.link_id, p.code) for p in caught.value.problems] == [
        ("hallucinations", "invalid_value")
    ]


# --- cut-offs and flags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "total", "met"),
    [
        ("gad7", 9, ()),
        ("gad7", 10, ("screen positive",)),
        ("spin", 18, ()),
        ("spin", 19, ("likely social anxiety disorder",)),
        ("ocir", 13, ()),
        ("ocir", 14, ("above the cut-off separating OCD from other anxiety disorders",)),
        (
            "ocir",
            21,
            ("likely OCD", "above the cut-off separating OCD from other anxiety disorders"),
        ),
        ("cadss", 4, ()),
        ("cadss", 5, ("severe dissociation (esketamine analyses, applied to the peak score)",)),
        ("aldrete_modified", 8, ()),
        ("aldrete_modified", 9, ("discharge criteria usually met",)),
    ],
)
def test_cutoffs_met(code: str, total: int, met: tuple[str, ...]) -> None:
    instrument = instruments.get(code)
    assert score(instrument, answers_for_total(instrument, total)).cutoffs_met == met


def test_phq9_item_9_raises_the_urgent_suicide_flag_whatever_the_total() -> None:
    answers = {str(i): 0 for i in range(1, 10)} | {"1": 1, "2": 1, "9": 1}
    result = score(instruments.get("phq9"), answers)
    assert result.total == 3
    assert result.band == "none-minimal"
    assert [(f.code, f.severity, f.link_id) for f in result.flags] == [
        ("suicide_risk", "urgent", "9")
    ]


def test_phq9_without_item_9_raises_no_flag_even_when_severe() -> None:
    answers = {str(i): 3 for i in range(1, 9)} | {"9": 0}
    result = score(instruments.get("phq9"), answers)
    assert (result.total, result.band, result.flags) == (24, "severe", ())


@pytest.mark.parametrize(("rating", "flagged"), [(0, True), (1, False), (5, False)])
def test_moaas_zero_flags_loss_of_consciousness(rating: int, flagged: bool) -> None:
    result = score(instruments.get("moaas"), {"rating": rating})
    assert result.total == rating
    assert [f.code for f in result.flags] == (["loss_of_consciousness"] if flagged else [])


# --- refusals --------------------------------------------------------------------------------


def test_missing_items_are_refused_with_their_list() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("gad7"), {"1": 1, "2": 2, "4": 0, "7": 3})
    assert caught.value.missing == ("3", "5", "6")
    assert {p.code for p in caught.value.problems} == {"missing"}


def test_an_empty_response_is_refused_listing_every_item() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("phq9"), {})
    assert caught.value.missing == tuple(str(i) for i in range(1, 10))


def test_all_problems_are_reported_together() -> None:
    answers = {"1": 4, "2": -1, "3": True, "4": 1, "5": 1, "6": 1, "item8": 0, "q1": 2}
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("gad7"), answers)
    assert sorted((p.link_id, p.code) for p in caught.value.problems) == [
        ("1", "invalid_value"),
        ("2", "invalid_value"),
        ("3", "not_an_integer"),
        ("7", "missing"),
        ("item8", "unknown_item"),
        ("q1", "unknown_item"),
    ]
    assert "4 is not one of the answers (0, 1, 2, 3)" in str(caught.value)


def test_a_string_value_is_not_an_integer() -> None:
    answers: dict[str, object] = {str(i): 0 for i in range(1, 8)} | {"5": "2"}
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("gad7"), answers)  # type: ignore[arg-type]
    assert [(p.link_id, p.code) for p in caught.value.problems] == [("5", "not_an_integer")]


# --- C-SSRS skip logic and risk levels -------------------------------------------------------


def _cssrs(**answers: int) -> dict[str, int]:
    return {key.replace("six_recent", "6.recent").lstrip("q"): v for key, v in answers.items()}


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        (_cssrs(q1=0, q2=0, q6=0), "none"),
        (_cssrs(q1=1, q2=0, q6=0), "low"),
        (_cssrs(q1=0, q2=1, q3=0, q4=0, q5=0, q6=0), "low"),
        (_cssrs(q1=1, q2=1, q3=0, q4=0, q5=0, q6=0), "low"),
        (_cssrs(q1=1, q2=1, q3=1, q4=0, q5=0, q6=0), "moderate"),
        (_cssrs(q1=0, q2=0, q6=1, six_recent=0), "moderate"),
        (_cssrs(q1=1, q2=1, q3=1, q4=1, q5=0, q6=0), "high"),
        (_cssrs(q1=1, q2=1, q3=0, q4=0, q5=1, q6=0), "high"),
        (_cssrs(q1=0, q2=0, q6=1, six_recent=1), "high"),
        (_cssrs(q1=1, q2=1, q3=1, q4=0, q5=0, q6=1, six_recent=1), "high"),
    ],
)
def test_cssrs_risk_levels(answers: dict[str, int], level: str) -> None:
    result = score(instruments.get("cssrs_screener"), answers)
    assert (result.total, result.band, result.risk_level) == (None, None, level)


def test_cssrs_items_3_to_5_must_be_absent_when_2_is_no() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("cssrs_screener"), _cssrs(q1=1, q2=0, q3=0, q4=1, q6=0))
    assert [(p.link_id, p.code) for p in caught.value.problems] == [
        ("3", "not_asked"),
        ("4", "not_asked"),
    ]


def test_cssrs_items_3_to_5_are_required_when_2_is_yes() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("cssrs_screener"), _cssrs(q1=1, q2=1, q4=0, q6=0))
    assert caught.value.missing == ("3", "5")


def test_cssrs_recent_qualifier_follows_item_6() -> None:
    cssrs = instruments.get("cssrs_screener")
    with pytest.raises(ResponseInvalid) as caught:
        score(cssrs, _cssrs(q1=0, q2=0, q6=1))
    assert caught.value.missing == ("6.recent",)
    with pytest.raises(ResponseInvalid) as caught:
        score(cssrs, _cssrs(q1=0, q2=0, q6=0, six_recent=0))
    assert [(p.link_id, p.code) for p in caught.value.problems] == [("6.recent", "not_asked")]


def test_cssrs_items_depending_on_a_missing_item_2_are_not_judged() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("cssrs_screener"), _cssrs(q1=1, q3=1, q6=0))
    assert [(p.link_id, p.code) for p in caught.value.problems] == [("2", "missing")]


def test_cssrs_items_depending_on_an_invalid_item_2_are_not_judged() -> None:
    with pytest.raises(ResponseInvalid) as caught:
        score(instruments.get("cssrs_screener"), _cssrs(q1=1, q2=2, q6=0))
    assert [(p.link_id, p.code) for p in caught.value.problems] == [("2", "invalid_value")]


# --- prorating, only where a definition allows it --------------------------------------------


def _with_prorating(code: str, max_missing: int) -> Instrument:
    rule = ProratingRule(
        max_missing=max_missing,
        method="mean_of_answered_items",
        rounding="half_up",
        source="synthetic rule for tests",
    )
    return dataclasses.replace(instruments.get(code), prorating=rule)


def test_prorating_scales_the_mean_of_answered_items_rounding_half_up() -> None:
    hama = _with_prorating("hama", max_missing=2)
    answers = {str(i): 1 for i in range(1, 14)}  # item 14 missing: 13 * 14 / 13 = 14
    answers["1"] = 2  # 14 * 14 / 13 = 15.08 -> 15
    result = score(hama, answers)
    assert (result.total, result.prorated, result.missing) == (15, True, ("14",))
    # psychic: items 1-6 answered (2+1+1+1+1+1 = 7), 14 missing: 7 * 7 / 6 = 8.17 -> 8
    assert result.subscales == {"psychic": 8, "somatic": 7}


def test_prorating_rounds_a_half_up() -> None:
    gad7 = _with_prorating("gad7", max_missing=1)
    # 6 answered summing to 3: 3 * 7 / 6 = 3.5 -> 4
    result = score(gad7, {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0})
    assert (result.total, result.band) == (4, "minimal")


def test_prorating_refuses_more_missing_items_than_allowed() -> None:
    gad7 = _with_prorating("gad7", max_missing=1)
    with pytest.raises(ResponseInvalid) as caught:
        score(gad7, {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0})
    assert caught.value.missing == ("6", "7")


def test_prorating_refuses_a_subscale_with_no_answered_item() -> None:
    ybocs = _with_prorating("ybocs", max_missing=5)
    with pytest.raises(ResponseInvalid) as caught:
        score(ybocs, {str(i): 2 for i in range(6, 11)})
    assert caught.value.missing == ("1", "2", "3", "4", "5")


def test_a_complete_response_is_not_prorated() -> None:
    gad7 = _with_prorating("gad7", max_missing=1)
    result = score(gad7, {str(i): 1 for i in range(1, 8)})
    assert (result.total, result.prorated, result.missing) == (7, False, ())


# --- property: any complete response -------------------------------------------------------


@st.composite
def complete_responses(draw: st.DrawFn) -> tuple[Instrument, dict[str, int]]:
    instrument = instruments.get(draw(st.sampled_from(SUMMED)))
    answers = {item.link_id: draw(st.sampled_from(item.weights)) for item in instrument.items}
    return instrument, answers


@given(complete_responses())
def test_a_complete_response_scores_to_the_sum_of_weights_in_exactly_one_band(
    case: tuple[Instrument, dict[str, int]],
) -> None:
    instrument, answers = case
    result = score(instrument, answers)
    assert result.total == sum(answers.values())
    containing = [band for band in instrument.bands if band.contains(sum(answers.values()))]
    if instrument.bands:
        assert len(containing) == 1
        assert result.band == containing[0].label
    else:
        assert result.band is None
    for subscale in instrument.subscales:
        expected = sum(answers[link_id] for link_id in subscale.link_ids)
        assert result.subscales[subscale.name] == expected
    assert not result.prorated
