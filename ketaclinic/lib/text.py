"""Text that identifies people or records clinical facts: normalised and checked (issue 18
item 5).

A patient named only U+200B (zero-width space) looks nameless on every page but is a
distinct record; U+202E (right-to-left override) makes "Smith" display as another name; C1
controls and a byte-order mark are invisible too. For identifying patients that is a safety
issue: two charts that read the same but are different people, or one person found under two
spellings. So every person's name and every clinical free text passes ``text_checked``:

- normalised to NFC (Unicode's composed form), so that "Jose" + U+0301 (combining acute) and
  "José" are stored, searched and compared as the same name;
- refused when it holds a control character (Unicode category Cc: C0, DEL and C1; tab,
  newline and carriage return allowed in free text only), a format character (Cf: U+200B,
  U+200E/U+200F marks, U+FEFF BOM, the bidi embeddings and overrides U+202A-U+202E and
  isolates U+2066-U+2069, soft hyphen, ...), a line or paragraph separator (U+2028, U+2029),
  a surrogate or a private-use character;
- the two joiners U+200C (ZWNJ) and U+200D (ZWJ) are kept between two letters or marks, where
  Persian and Indic names need them, and refused anywhere else;
- a person's name must contain at least one letter.

Pure: no Django. Forms (``ketaclinic.lib.forms``) and API schemas (``ketaclinic.lib.
validation``) call it and show the message beside the field.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

TextKind = Literal["name", "line", "free"]
"""``name``: a person's name (one line, a letter required); ``line``: any other one-line text;
``free``: clinical free text (notes, reasons), where tab and line breaks are allowed."""

_FREE_TEXT_CONTROLS = frozenset("\t\n\r")
_JOINERS = frozenset("\u200c\u200d")
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
_BIDI = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


class TextRefused(ValueError):
    """What is wrong with a text, in words for the person who typed it."""


def _joins_letters(text: str, index: int) -> bool:
    if index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    return unicodedata.category(before)[0] in "LM" and unicodedata.category(after)[0] in "LM"


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def text_problem(value: str, kind: TextKind = "line") -> str | None:
    """Why ``value`` (already NFC) cannot be taken as ``kind`` text, or None."""
    for index, char in enumerate(value):
        if char in _FREE_TEXT_CONTROLS and kind == "free":
            continue
        if char in _JOINERS and _joins_letters(value, index):
            continue
        category = unicodedata.category(char)
        what = _REFUSED_CATEGORIES.get(category)
        if what is None:
            continue
        if char in _BIDI:
            what = "a text-direction override"
        elif char in _FREE_TEXT_CONTROLS:
            what = "a line break or tab"
        return f"must not contain {what} ({_describe(char)})"
    if kind == "name" and value and not any(unicodedata.category(c)[0] == "L" for c in value):
        return "must contain at least one letter"
    return None


def text_checked(value: str, kind: TextKind = "line") -> str:
    """``value`` in NFC; ``TextRefused`` saying why when it cannot be taken."""
    normal = unicodedata.normalize("NFC", value)
    problem = text_problem(normal, kind)
    if problem is not None:
        raise TextRefused(problem)
    return normal
