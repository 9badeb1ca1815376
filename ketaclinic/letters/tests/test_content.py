"""The letter's content as pure functions: placeholders, the scores table, outcome words,
adverse events, reasons, the signature block and the digest."""

from __future__ import annotations

import pytest

from ketaclinic.letters.rules.content import (
    KINDS,
    PLACEHOLDERS,
    ScoreRow,
    Signature,
    adverse_events_text,
    default_templates,
    digest,
    fill,
    outcome_summary,
    outcome_words,
    reasons_text,
    score_row_cells,
    signature_lines,
    template_problems,
)


def _row(
    baseline: int | None, latest: int | None, responded: bool | None, remitted: bool | None
) -> ScoreRow:
    return ScoreRow("GAD-7", baseline, "2026-01-01", latest, "2026-02-01", responded, remitted)


def test_fill_replaces_known_placeholders_and_leaves_unknown_ones_visible() -> None:
    assert fill("Dear {recipient_name}, {nope}", {"recipient_name": "Dr Moss"}) == (
        "Dear Dr Moss, {nope}"
    )


def test_every_published_default_uses_only_its_kinds_placeholders() -> None:
    templates = default_templates()
    assert set(templates) == set(KINDS)
    for kind, text in templates.items():
        assert template_problems(kind, text.subject + text.body) == []
        assert "{patient_name}" in text.body and "{birth_date}" in text.body


def test_a_placeholder_of_another_kind_is_a_problem() -> None:
    assert template_problems("evaluation", "{sessions_given} {typo}") == [
        "Unknown placeholder {sessions_given}.",
        "Unknown placeholder {typo}.",
    ]
    assert "decision" in PLACEHOLDERS["evaluation"]


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (_row(16, 3, True, True), "remission"),
        (_row(16, 7, True, False), "response"),
        (_row(16, 12, False, False), "no response yet"),
        (_row(None, 12, None, None), "not assessable"),
    ],
)
def test_outcome_words(row: ScoreRow, words: str) -> None:
    assert outcome_words(row) == words


def test_score_row_cells_show_scores_dates_and_signed_change() -> None:
    assert score_row_cells(_row(16, 3, True, True)) == (
        "GAD-7",
        "16 (2026-01-01)",
        "3 (2026-02-01)",
        "-13",
        "remission",
    )
    assert score_row_cells(_row(None, None, None, None))[1:4] == ("-", "-", "-")


def test_outcome_summary_names_each_measure_compared() -> None:
    rows = [_row(16, 3, True, True), ScoreRow("PHQ-9", 14, "", 6, "", True, False)]
    assert outcome_summary(rows) == "GAD-7 16 to 3 (remission); PHQ-9 14 to 6 (response)."
    assert outcome_summary([_row(None, 5, None, None)]).startswith("no scores before and after")


def test_adverse_events_are_counted_by_effect_and_severity() -> None:
    events = [("nausea", "mild"), ("nausea", "mild"), ("emergence_reaction", "moderate")]
    assert adverse_events_text(events) == "nausea (mild) x2, emergence reaction (moderate)."
    assert adverse_events_text([]) == "none."


def test_reasons_list_the_rationale_first() -> None:
    assert reasons_text(["Rule A"], "Clinician's view") == "- Clinician's view\n- Rule A"
    assert reasons_text([], "") == "- not recorded"


def test_signature_block_and_draft_mark() -> None:
    signed = Signature("Ada Lovelace", "Clinician (prescriber)", "2026-12-03 09:15")
    assert signature_lines(signed) == [
        "Signed by: Ada Lovelace",
        "Role: Clinician (prescriber)",
        "Signed at: 2026-12-03 09:15",
    ]
    assert signature_lines(None) == ["DRAFT - not signed"]


def test_digest_is_canonical() -> None:
    assert digest({"b": 1, "a": "é"}) == digest({"a": "é", "b": 1})
    assert digest({"a": 1}) != digest({"a": 2})
