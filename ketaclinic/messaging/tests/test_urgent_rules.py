"""The urgent-word matcher: pure, table-driven, no database."""

from __future__ import annotations

import pytest

from ketaclinic.messaging.rules.urgent import (
    fold,
    phrases_clean,
    published_defaults,
    urgent_phrases_found,
)

DEFAULTS = published_defaults().phrases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I keep thinking about suicide", ("suicide",)),
        ("SUICIDE", ("suicide",)),
        ("I feel like I can't breathe", ("can't breathe",)),
        ("I feel like I can\u2019t breathe", ("can't breathe",)),  # typographic apostrophe
        ("i cant breathe", ("can't breathe",)),
        ("I can`t   breathe!", ("can't breathe",)),  # grave accent, several spaces
        ("I cannot breathe", ("cannot breathe",)),
        ("Chest pain since this morning", ("chest pain",)),
        ("chest\npain", ("chest pain",)),
        ("I want to kill myself", ("kill myself",)),
        ("I just want to die", ("want to die",)),
        ("worried about an overdose", ("overdose",)),
        # Spanish, with and without accents, any case
        ("Pienso en el suicidio", ("suicidio",)),
        ("Quiero MATARME", ("matarme",)),
        ("tomé una sobredosis", ("sobredosis",)),
        ("No puedo respirar", ("no puedo respirar",)),
        ("a veces quiero morir", ("quiero morir",)),
        ("Quiero morirme", ("quiero morirme",)),
        ("tengo dolor en el pécho", ("dolor en el pecho",)),
        ("quiero hacerme daño", ("hacerme daño",)),
        ("quiero hacerme dano", ("hacerme daño",)),
    ],
)
def test_urgent_phrases_are_found(text: str, expected: tuple[str, ...]) -> None:
    assert urgent_phrases_found(text, DEFAULTS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Can I move my appointment to Tuesday?",
        "My overdosage question was answered",  # not the whole word "overdose"
        "The suicidebrief podcast",  # a word that only starts with one
        "I am breathing better since the last session",
        "Gracias por todo, me siento mejor",
        "I can breathe fine now",
        "chest of drawers, no pain",  # the words, not in order
        "",
    ],
)
def test_ordinary_messages_are_not_urgent(text: str) -> None:
    assert urgent_phrases_found(text, DEFAULTS) == ()


def test_each_phrase_is_reported_once_in_the_lists_order() -> None:
    text = "Chest pain, and I think about suicide. Suicide. Chest   pain."
    assert urgent_phrases_found(text, DEFAULTS) == ("suicide", "chest pain")


def test_a_phrase_of_an_edited_list_matches_as_the_shipped_ones_do() -> None:
    assert urgent_phrases_found("I'm going to jump", ["going to jump"]) == ("going to jump",)
    assert urgent_phrases_found("jumping", ["jump"]) == ()


def test_fold_lowers_strips_accents_and_unifies_apostrophes() -> None:
    assert fold("Can\u2019T RespirÁr") == "can't respirar"
    assert fold("MORIR\u00b4") == "morir'"


def test_an_edited_list_is_trimmed_and_deduplicated() -> None:
    assert phrases_clean(["  chest   pain ", "", "Chest Pain", "suicidio", "Suicídio"]) == (
        "chest pain",
        "suicidio",
    )
    with pytest.raises(ValueError, match="empty"):
        phrases_clean(["", "  "])
    with pytest.raises(ValueError, match="no letter"):
        phrases_clean(["!!!"])


def test_the_shipped_list_has_the_issues_words_in_english_and_spanish_with_sources() -> None:
    words = published_defaults()
    for phrase in ("suicide", "overdose", "can't breathe", "cannot breathe", "chest pain"):
        assert phrase in words.phrases
    for phrase in ("suicidio", "matarme", "sobredosis", "no puedo respirar", "quiero morir"):
        assert phrase in words.phrases
    assert words.sources and words.version >= 1
