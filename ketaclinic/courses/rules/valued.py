"""A protocol's numbers as form rows: every `{"value": ..., "source": ...}` in its JSON, with
its path, a label in words and its source; and the same JSON with some values replaced. Pure,
no Django. Decimals stay exactly as written (parsed and written as Decimal)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_MARK = "\x00dec:"


@dataclass(frozen=True)
class Valued:
    path: str
    """Dotted path in the JSON, e.g. schedule.induction.min_hours_between."""
    label: str
    value: Any
    source: str
    message: str


def protocol_parse(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def protocol_dump(data: Any) -> str:
    """JSON text with Decimals written exactly as they are (not through float)."""

    def default(obj: object) -> str:
        if isinstance(obj, Decimal):
            return f"{_MARK}{obj}"
        raise TypeError(f"not JSON: {type(obj).__name__}")

    text = json.dumps(data, indent=2, ensure_ascii=False, default=default)
    return re.sub(r'"\\u0000dec:([-0-9.Ee+]+)"', r"\1", text)


def _words(key: str) -> str:
    return key.replace("_", " ")


def valued_rows(data: Any) -> list[Valued]:
    """Each single editable value (a number, yes/no or a word) with its source, in order."""
    rows: list[Valued] = []

    def walk(node: Any, path: list[str], label: list[str]) -> None:
        if isinstance(node, dict):
            value = node.get("value")
            if "value" in node and isinstance(value, int | Decimal | bool | str):
                rows.append(
                    Valued(
                        ".".join(path),
                        " · ".join(label),
                        value,
                        str(node.get("source", "")),
                        str(node.get("message", "")),
                    )
                )
                return
            for key, child in node.items():
                walk(child, [*path, key], [*label, _words(key)])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                name = child.get("code", str(index)) if isinstance(child, dict) else str(index)
                walk(child, [*path, str(index)], [*label[:-1], f"{label[-1]}: {_words(name)}"])

    walk(data, [], [])
    return rows


def typed_like(original: Any, text: str) -> Any:
    """The submitted text as the original value's type; ValueError when it does not parse."""
    text = text.strip()
    if isinstance(original, bool):
        if text not in ("true", "false"):
            raise ValueError("choose yes or no")
        return text == "true"
    if isinstance(original, int | Decimal):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not number.is_finite():
            raise ValueError("must be a number")
        if number == number.to_integral_value() and "." not in text:
            return int(number)
        return number
    if not text:
        raise ValueError("must not be empty")
    return text


def valued_set(data: Any, changes: dict[str, Any]) -> Any:
    """A copy of the JSON with each path's value replaced."""
    copy = protocol_parse(protocol_dump(data))
    for path, value in changes.items():
        node = copy
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        node["value"] = value
    return copy
