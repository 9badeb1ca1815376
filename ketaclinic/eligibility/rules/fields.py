"""The eligibility rule set's editable values as form rows: every number (a threshold) and every
list of words (medication names or classes, diagnosis prefixes, vitals) in each rule's condition,
with a label in words and the rule's source; and the same rule set with some values replaced.
Pure, no Django. Contraindication codes are not values: a rule is added or removed in the JSON."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

Value = int | float | str | tuple[str, ...]

_STRUCTURE = frozenset({"all", "any"})
DESCRIPTION = "wording shown in proposals"


@dataclass(frozen=True)
class RuleField:
    path: str
    """Where the value is, e.g. ``8.condition.vitals_any_at_least.systolic`` (8: the rule's
    index in ``rules``)."""
    rule_code: str
    rule_description: str
    label: str
    value: Value
    source: str

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, tuple)


_WORDS = {
    "vitals_any_at_least": "at or above",
    "not": "unless",
    "systolic": "systolic (mmHg)",
    "diastolic": "diastolic (mmHg)",
    "heart_rate": "heart rate (bpm)",
    "medication_class_in": "medication classes",
    "medication_name_in": "medication names",
    "no_diagnosis_prefix_in": "diagnosis codes it needs (ICD-10, starting with)",
    "adequate_trials_below": "fewer adequate treatment trials than",
    "vitals_missing": "vitals that must be recorded",
}
"""The condition language's keys in the words a clinic uses (others: underscores as spaces)."""


def _words(key: str) -> str:
    return _WORDS.get(key, key.replace("_", " "))


def _walk(
    node: Any, path: list[str], label: list[str], rule: tuple[str, str, str], rows: list[RuleField]
) -> None:
    code, description, source = rule
    if isinstance(node, bool):
        return
    if isinstance(node, int | float) or (
        isinstance(node, list) and node and all(isinstance(v, str) for v in node)
    ):
        value: Value = tuple(node) if isinstance(node, list) else node
        rows.append(RuleField(".".join(path), code, description, " · ".join(label), value, source))
    elif isinstance(node, list):
        for position, child in enumerate(node):
            _walk(child, [*path, str(position)], label, rule, rows)
    elif isinstance(node, dict):
        for key, child in node.items():
            words = label if key in _STRUCTURE else [*label, _words(key)]
            _walk(child, [*path, key], words, rule, rows)


def rule_fields(data: Any) -> list[RuleField]:
    """Each editable value of every rule, in the rule set's order."""
    rows: list[RuleField] = []
    for index, rule in enumerate(data.get("rules", [])):
        if not isinstance(rule, dict):
            continue
        meta = (
            str(rule.get("code", index)),
            str(rule.get("description", "")),
            str(rule.get("source", "")),
        )
        values: list[RuleField] = []
        _walk(rule.get("condition"), [str(index), "condition"], [], meta, values)
        if values:
            # The wording proposals quote: it often names the numbers, so it is edited beside them.
            rows.append(
                RuleField(f"{index}.description", meta[0], meta[1], DESCRIPTION, meta[1], meta[2])
            )
            rows.extend(values)
    return rows


_LIST_ITEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._\-/]*$")


def rule_field_parse(field: RuleField, text: str) -> Value:
    """The submitted text as the field's kind of value; ValueError (in words) when it is not."""
    text = text.strip()
    if isinstance(field.value, str):
        if not text:
            raise ValueError("must not be empty")
        if len(text) > 500:
            raise ValueError("at most 500 characters")
        return text
    if field.is_list:
        items = tuple(item.strip() for item in text.split(",") if item.strip())
        if not items:
            raise ValueError("give at least one, separated by commas")
        for item in items:
            if len(item) > 80 or not _LIST_ITEM.match(item):
                raise ValueError(f"{item[:80]!r} is not a name: letters, digits, spaces, . - /")
        if len(set(items)) != len(items):
            raise ValueError("a name is given twice")
        return items
    if isinstance(field.value, int):
        if not re.fullmatch(r"\d{1,6}", text):
            raise ValueError("must be a whole number, 0 or more")
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not number >= 0 or number == float("inf"):
        raise ValueError("must be a number, 0 or more")
    return number


def rules_with(data: Any, changes: dict[str, Value], version: str) -> Any:
    """A copy of the rule set with each path's value replaced and the new version name."""
    result = copy.deepcopy(data)
    result["version"] = version
    for path, value in changes.items():
        parts = path.split(".")
        node: Any = result["rules"]
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        stored = list(value) if isinstance(value, tuple) else value
        if isinstance(node, list):
            node[int(last)] = stored
        else:
            node[last] = stored
    return result


def version_next(version: str, taken: set[str] | frozenset[str]) -> str:
    """The next free version name: ``2025.1`` -> ``2025.2`` (or ``-2`` appended)."""
    match = re.fullmatch(r"(.*?)(\d+)", version)
    stem, number = (match.group(1), int(match.group(2))) if match else (f"{version}-", 1)
    while True:
        number += 1
        candidate = f"{stem}{number}"
        if candidate not in taken:
            return candidate
