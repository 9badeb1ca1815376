"""Urgent words in a patient's message: a pure, typed matcher.

The list is data (``data/urgent_words.json``, with its sources; the administrator may publish
a new version, see ``messaging.services.words``). A phrase matches when its words appear in the
message as whole words, in order, separated by any spaces, whatever the case and accents
("SUICIDIO", "suicidio", "Suicídio"); an apostrophe in a phrase is optional and may be any of
the apostrophe characters people type ("can't", "can`t", "cant", or with U+2019).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

DATA: Final = Path(__file__).with_name("data") / "urgent_words.json"

# Apostrophe-like characters people type or phones substitute: ASCII, right and left single
# quotation marks, grave, acute, modifier letter apostrophe, prime.
APOSTROPHES: Final = "'\u2019\u2018`\u00b4\u02bc\u2032"
_APOSTROPHE_RE: Final = re.compile(f"[{re.escape(APOSTROPHES)}]")


@dataclass(frozen=True)
class UrgentWords:
    """One version of the list: its phrases (any language) and where they come from."""

    version: int
    phrases: tuple[str, ...]
    sources: tuple[str, ...]
    note: str


def fold(text: str) -> str:
    """Lower case, accents removed, every apostrophe the ASCII one: "Can`T Respirár" ->
    "can't respirar"."""
    # Apostrophes first: NFKD would turn the acute accent (U+00B4) into a space and a mark.
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHE_RE.sub("'", text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.casefold()


@lru_cache(maxsize=256)
def _pattern(phrase: str) -> re.Pattern[str]:
    words = fold(phrase).split()
    if not words:
        raise ValueError("an empty phrase")
    parts = []
    for word in words:
        # Each apostrophe in the phrase is optional in the message ("can't" matches "cant").
        pieces = [re.escape(piece) for piece in word.split("'")]
        parts.append("'?".join(pieces))
    return re.compile(r"(?<![\w'])" + r"\s+".join(parts) + r"(?![\w'])")


def urgent_phrases_found(text: str, phrases: Iterable[str]) -> tuple[str, ...]:
    """The phrases of the list found in ``text``, in the list's order, each once."""
    folded = fold(text)
    found: list[str] = []
    for phrase in phrases:
        if phrase in found:
            continue
        if _pattern(phrase).search(folded):
            found.append(phrase)
    return tuple(found)


def phrases_clean(lines: Sequence[str]) -> tuple[str, ...]:
    """An edited list: one phrase a line, trimmed, blank lines and repeats dropped; a phrase
    must have a letter (ValueError otherwise)."""
    clean: list[str] = []
    for line in lines:
        phrase = " ".join(line.split())
        if not phrase:
            continue
        if not any(ch.isalpha() for ch in phrase):
            raise ValueError(f"{phrase!r} has no letter")
        if fold(phrase) not in {fold(p) for p in clean}:
            clean.append(phrase)
    if not clean:
        raise ValueError("the list is empty")
    return tuple(clean)


def published_defaults(path: Path = DATA) -> UrgentWords:
    """The list as shipped (every language's phrases together)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    phrases = tuple(p for language in data["phrases"].values() for p in language)
    return UrgentWords(
        version=int(data["version"]),
        phrases=phrases,
        sources=tuple(data["sources"]),
        note=str(data["note"]),
    )
