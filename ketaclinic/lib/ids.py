"""Ids taken from URLs and JSON as text."""

from __future__ import annotations

MAX_DIGITS = 18  # below 2**63: a longer number cannot be a row's id


def int_id(raw: int | str) -> int | None:
    """The integer id written in ``raw``, or None when it is not one (so that a malformed id
    answers the same 404 as an unknown one)."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return None
    return int(text)
