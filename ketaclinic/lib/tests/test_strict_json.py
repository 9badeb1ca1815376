"""The strict JSON reader: UTF-8 only, a depth limit measured without recursing, and no NUL or
lone surrogate in any string, each problem reported with its path."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ketaclinic.lib.strict_json import (
    MAX_DEPTH,
    MAX_PROBLEMS,
    StrictJsonError,
    json_path,
    nesting_exceeds,
    strict_json_loads,
)


def _problems(body: bytes) -> list[tuple[str, str]]:
    with pytest.raises(StrictJsonError) as caught:
        strict_json_loads(body)
    return [(p.kind, json_path(p.path)) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"a": [1, {"b": "c"}]}', {"a": [1, {"b": "c"}]}),
        ('"caf\u00e9 \U0001f600"'.encode(), "caf\u00e9 \U0001f600"),
        (b'"\\ud83d\\ude00"', "\U0001f600"),  # a valid surrogate pair is one character
        (b'"[[[[{{{{"', "[[[[{{{{"),  # brackets inside strings are not nesting
        (b'"\\"[[["', '"[[['),
        ("\ufeff[]".encode(), []),  # a UTF-8 byte order mark is ignored
    ],
)
def test_valid_json_is_read(body: bytes, value: Any) -> None:
    assert strict_json_loads(body) == value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"notes": "a\\ud800b"}', [("bad_character", "notes")]),
        (b'{"notes": "a\\udfffb"}', [("bad_character", "notes")]),
        (b'{"x": [0, {"y": "\\u0000"}]}', [("bad_character", "x[1].y")]),
        (b'{"k\\ud800": 1, "z": "\\u0000"}', [("bad_character", "body"), ("bad_character", "z")]),
        (b'["\\ud800", "ok", "\\u0000"]', [("bad_character", "[0]"), ("bad_character", "[2]")]),
        (b'"\xed\xa0\x80"', [("not_json", "body")]),  # the surrogate's bytes are not UTF-8
        (b'"\xff"', [("not_json", "body")]),
        (b"{'a': 1}", [("not_json", "body")]),
        (b"[" * 100_000 + b"]" * 100_000, [("too_deep", "body")]),
    ],
)
def test_bad_input_is_refused_with_its_path(body: bytes, expected: list[tuple[str, str]]) -> None:
    assert _problems(body) == expected


def test_the_depth_limit_is_exact() -> None:
    assert strict_json_loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert _problems(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)) == [("too_deep", "body")]
    assert not nesting_exceeds('{"a": [' + '"[",' * 500 + "1]}", MAX_DEPTH)


def test_an_unterminated_string_is_scanned_in_linear_time() -> None:
    # Escaped quotes with no closing one: a pattern that rescanned from every quote would take
    # minutes on this; the reader answers at once.
    body = b'["' + b'\\"' * 200_000 + b"[" * (MAX_DEPTH + 1)
    started = time.monotonic()
    assert _problems(body) == [("not_json", "body")]
    assert time.monotonic() - started < 2


def test_the_problems_are_listed_at_most_max_problems_times_and_never_echo_the_text() -> None:
    with pytest.raises(StrictJsonError) as caught:
        strict_json_loads(("[" + ", ".join(['"secret\\u0000"'] * 100) + "]").encode())
    assert len(caught.value.problems) == MAX_PROBLEMS
    assert "secret" not in str(caught.value)


def test_json_path_writes_indices_in_brackets() -> None:
    assert json_path(("prior_treatments", 0, "name")) == "prior_treatments[0].name"
    assert json_path(()) == "body"
    assert json_path((2,)) == "[2]"
