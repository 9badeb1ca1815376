"""The strict JSON reader for request bodies the API parses by hand (evaluations, FHIR).

``json.loads`` alone lets through what the database or the next page cannot take:

- a lone surrogate (``"\\ud800"`` as an escape, or its three bytes, which ``json.loads(bytes)``
  decodes with ``surrogatepass``): PostgreSQL refuses it (a 500 whose error context carried the
  patient's data into the log); SQLite stores it and every later view of the row fails;
- NUL (``"\\u0000"``): PostgreSQL's text and jsonb cannot hold it;
- nesting a hundred thousand levels deep: the C decoder recurses once per level and raises
  ``RecursionError`` (a 500).

``strict_json_loads`` reads UTF-8 only, measures the nesting without recursing before it
parses, and then checks every string, key and value alike, with an explicit stack. It raises
``StrictJsonError`` listing every problem with its path, and never echoes the offending text.
Pure: no Django, so the API and FHIR views answer each in their own shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted. Our deepest real input is a FHIR
QuestionnaireResponse with nested groups (about 10 levels: item > item > answer > valueCoding);
an evaluation is 3. 64 leaves room for any sane client, and stays far below Python's recursion
limit (1,000 frames, of which a request already uses ~150 in Django and the validators, which
recurse once per level again)."""

MAX_PROBLEMS = 20
"""Problems listed at most, so that a body full of bad strings does not make a huge answer."""

ProblemKind = Literal["not_json", "too_deep", "bad_character"]
Path = tuple[str | int, ...]

# A JSON string (closing quote optional, so that an unterminated one is consumed once rather than
# rescanned from every later quote) or one bracket. Linear: the string's parts cannot overlap.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")
# Any code point in the surrogate range is a lone one: json.loads joins a valid pair into one
# character above U+FFFF.
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class JsonProblem:
    kind: ProblemKind
    message: str
    path: Path = ()


class StrictJsonError(ValueError):
    """The body cannot be taken; ``problems`` says why and where."""

    def __init__(self, problems: list[JsonProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = tuple(problems)

    @property
    def kind(self) -> ProblemKind:
        return self.problems[0].kind


def json_path(path: Path, root: str = "body") -> str:
    """``("prior_treatments", 0, "name")`` as ``prior_treatments[0].name``; ``()`` as ``root``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or root


def nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether ``text`` nests arrays and objects deeper than ``max_depth``, brackets inside
    strings not counted. Stops at the first level too deep; never recurses."""
    if sum(text.count(c) for c in "[{") <= max_depth:
        return False
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > max_depth:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


NUL_MESSAGE = "must not contain NUL characters"
SURROGATE_MESSAGE = "must not contain a lone surrogate (an unpaired \\ud800-\\udfff escape)"


def bad_character_message(value: str) -> str | None:
    """What is wrong with ``value`` (a NUL or a lone surrogate in it), or None."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def _character_problem(value: str, path: Path) -> JsonProblem | None:
    message = bad_character_message(value)
    return None if message is None else JsonProblem("bad_character", message, path)


def bad_characters(data: Any) -> list[JsonProblem]:
    """Every string of ``data`` (keys too) holding NUL or a lone surrogate, in document order.
    A bad key is reported at the path of the object that holds it."""
    problems: list[JsonProblem] = []
    stack: list[tuple[Any, Path]] = [(data, ())]
    while stack and len(problems) < MAX_PROBLEMS:
        value, path = stack.pop()
        if isinstance(value, str):
            problem = _character_problem(value, path)
            if problem is not None:
                problems.append(problem)
        elif isinstance(value, dict):
            children: list[tuple[Any, Path]] = []
            for key, child in value.items():
                problem = _character_problem(key, path)
                if problem is not None:
                    problems.append(JsonProblem(problem.kind, f"a key {problem.message}", path))
                    continue
                children.append((child, (*path, key)))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(child, (*path, i)) for i, child in enumerate(value)]))
    return problems[:MAX_PROBLEMS]


def strict_json_loads(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``body``; ``StrictJsonError`` if it is not UTF-8 JSON, nests deeper than
    ``max_depth``, or holds NUL or a lone surrogate in any string."""
    try:
        text = body.decode("utf-8-sig")  # strict: the bytes of a surrogate are not UTF-8
    except UnicodeDecodeError:
        raise StrictJsonError([JsonProblem("not_json", "the body is not UTF-8")]) from None
    if nesting_exceeds(text, max_depth):
        message = f"the body nests arrays and objects deeper than {max_depth} levels"
        raise StrictJsonError([JsonProblem("too_deep", message)])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg and the position only: the message never quotes the body.
        message = f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise StrictJsonError([JsonProblem("not_json", message)]) from None
    problems = bad_characters(data)
    if problems:
        raise StrictJsonError(problems)
    return data
