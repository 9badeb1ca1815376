"""The text check for names and clinical text (issue 18 item 5), table-driven, no database."""

from __future__ import annotations

import pytest

from ketaclinic.lib.text import TextKind, TextRefused, text_checked


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("Jose\u0301", "name", "Jos\u00e9"),  # combining acute composed (NFC)
        ("Zoe\u0308 O'Brien-Smith", "name", "Zo\u00eb O'Brien-Smith"),
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "name", None),  # ZWNJ in Persian
        ("\u0915\u094d\u200d\u0937", "name", None),  # ZWJ in Devanagari
        ("\u674e\u5c0f\u9f99", "name", None),  # CJK letters
        ("Line one\nline two\twith a tab\r\n", "free", None),
        ("Ann", "line", None),
    ],
)
def test_text_is_nfc_normalised_and_kept(value: str, kind: TextKind, expected: str | None) -> None:
    assert text_checked(value, kind) == (value if expected is None else expected)


@pytest.mark.parametrize(
    ("value", "kind", "words"),
    [
        ("\u200b", "name", "invisible formatting character (U+200B ZERO WIDTH SPACE)"),
        ("Smith\u202e", "name", "text-direction override (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("\u2066Smith\u2069", "name", "text-direction override (U+2066"),
        ("Sm\u0085ith", "name", "control character (U+0085)"),  # C1 (NEL)
        ("Sm\u009bith", "free", "control character (U+009B)"),  # C1 (CSI)
        ("\ufeffSmith", "name", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),  # the BOM
        ("Sm\u200eith", "line", "U+200E LEFT-TO-RIGHT MARK"),
        ("Sm\u00adith", "name", "U+00AD SOFT HYPHEN"),
        ("Sm\x1bith", "free", "control character (U+001B)"),  # C0 escape
        ("Sm\x7fith", "free", "control character (U+007F)"),  # DEL
        ("Smith\nJones", "name", "a line break or tab"),
        ("Smith\tJones", "line", "a line break or tab"),
        ("Smith\u2028", "free", "line separator"),
        ("\ue000", "line", "private-use character"),
        ("\u200dSmith", "name", "U+200D ZERO WIDTH JOINER"),  # a joiner not between letters
        ("12345", "name", "must contain at least one letter"),
        ("--- .", "name", "must contain at least one letter"),
    ],
)
def test_invisible_control_and_override_characters_are_refused(
    value: str, kind: TextKind, words: str
) -> None:
    with pytest.raises(TextRefused) as refused:
        text_checked(value, kind)
    assert words in str(refused.value)


def test_the_refusal_names_the_character_not_the_text() -> None:
    with pytest.raises(TextRefused) as refused:
        text_checked("Zyxcanary\u202eQwerty", "name")
    assert "Zyxcanary" not in str(refused.value)
