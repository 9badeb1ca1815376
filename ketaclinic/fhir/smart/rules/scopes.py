"""SMART scopes: parsing (v2, and v1 mapped to v2), granting and checking. Pure.

Source: SMART App Launch v2, ``scopes-and-launch-context.md`` (HL7/smart-app-launch), as
summarised in ``shared/domain/interop.md`` section 5: a scope is
``(patient|user|system)/(Type|*).<cruds, a subset in this order>[?param=value&...]``; v1's
``.read`` is ``.rs``, ``.write`` is ``.cud`` and ``.*`` is ``.cruds``; a request out of order
(``.dus``) may be refused, and is here.

The one check every FHIR answer goes through is :func:`permits`::

    permits(grant, "Observation", "search")                 # may it search Observations at all?
    permits(grant, "Observation", "read", resource)         # may it see this one (constraints)?

``interaction`` is one of ``read``, ``search``, ``create``, ``update``, ``delete``. Without the
resource, a scope with a query constraint (``?category=...``) does not permit: the caller
either passes the resource or asks :func:`search_constraint` for the filter to add.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

Context = Literal["patient", "user", "system"]
Interaction = Literal["read", "search", "create", "update", "delete"]

CONTEXTS: tuple[Context, ...] = ("patient", "user", "system")
ORDER = "cruds"
LETTER: dict[Interaction, str] = {
    "create": "c",
    "read": "r",
    "update": "u",
    "delete": "d",
    "search": "s",
}
# SMART v1 permissions as their v2 letters (scopes-and-launch-context.md, "v1 scopes").
V1: dict[str, str] = {"read": "rs", "write": "cud", "*": "cruds"}

# Query constraints this server can check on a resource: (type, parameter). A scope that
# constrains another parameter permits nothing of that type (it fails closed).
CHECKED: frozenset[tuple[str, str]] = frozenset(
    {("Observation", "category"), ("Condition", "category")}
)

_TYPE = re.compile(r"^(\*|[A-Z][A-Za-z]{1,63})$")


class ScopeInvalid(ValueError):
    """A scope this server does not understand or refuses (RFC 6749 ``invalid_scope``)."""


@dataclass(frozen=True, order=True)
class Scope:
    context: Context
    type_name: str  # a resource type, or "*"
    permissions: str  # a non-empty subset of "cruds", in that order
    constraints: tuple[tuple[str, str], ...] = ()  # (param, value); every one must hold

    def __str__(self) -> str:
        text = f"{self.context}/{self.type_name}.{self.permissions}"
        return f"{text}?{urlencode(self.constraints)}" if self.constraints else text


def _permissions(raw: str, has_query: bool) -> str:
    if raw in V1:
        if has_query:
            raise ScopeInvalid("a v1 scope (.read, .write, .*) takes no query")
        return V1[raw]
    if not raw or any(letter not in ORDER for letter in raw):
        raise ScopeInvalid(f"{raw!r} is not a subset of cruds")
    if raw != "".join(letter for letter in ORDER if letter in raw) or len(set(raw)) != len(raw):
        raise ScopeInvalid(f"{raw!r}: the letters must be in the order c, r, u, d, s")
    return raw


def scope_parse(text: str) -> Scope:
    """One scope, v2 or v1 (mapped to v2); ``ScopeInvalid`` naming what is wrong."""
    base, has_query, query = text.partition("?")
    context, slash, rest = base.partition("/")
    if not slash or context not in CONTEXTS:
        raise ScopeInvalid(f"{text!r} is not patient/, user/ or system/ followed by a type")
    type_name, dot, raw = rest.partition(".")
    if not dot or not _TYPE.match(type_name):
        raise ScopeInvalid(f"{text!r}: expected <Type or *>.<permissions>")
    permissions = _permissions(raw, bool(has_query))
    constraints: tuple[tuple[str, str], ...] = ()
    if has_query:
        try:
            pairs = parse_qsl(query, keep_blank_values=False, strict_parsing=True)
        except ValueError:
            raise ScopeInvalid(f"{text!r}: the query is not name=value&...") from None
        constraints = tuple(sorted(set(pairs)))
    ctx: Context = "patient" if context == "patient" else "user" if context == "user" else "system"
    return Scope(ctx, type_name, permissions, constraints)


def scopes_parse(text: str) -> tuple[list[Scope], list[str]]:
    """A space-separated scope string: the resource scopes, and the words that are not one
    (``launch``, ``openid``, a typo), each with the reason."""
    scopes: list[Scope] = []
    problems: list[str] = []
    for word in text.split():
        try:
            scopes.append(scope_parse(word))
        except ScopeInvalid as exc:
            problems.append(str(exc))
    return scopes, problems


@dataclass(frozen=True)
class Grant:
    """What one access token may do: its scopes, and the patient it is tied to (None: the
    whole clinic, for a system-wide client)."""

    scopes: tuple[Scope, ...]
    patient_id: str | None = None
    client_id: str = ""

    @property
    def scope_text(self) -> str:
        return " ".join(str(s) for s in self.scopes)


def _pair(requested: Scope, allowed: Scope) -> Scope | None:
    if requested.context != allowed.context:
        return None
    if requested.type_name == allowed.type_name or allowed.type_name == "*":
        type_name = requested.type_name
    elif requested.type_name == "*":
        type_name = allowed.type_name
    else:
        return None
    letters = "".join(x for x in ORDER if x in requested.permissions and x in allowed.permissions)
    if not letters:
        return None
    constraints = tuple(sorted(set(requested.constraints) | set(allowed.constraints)))
    return Scope(requested.context, type_name, letters, constraints)


def scopes_intersect(requested: Sequence[Scope], allowed: Sequence[Scope]) -> tuple[Scope, ...]:
    """What may be granted: each requested scope narrowed by each allowed one it meets (the
    type, the permissions both hold, the constraints of both). Empty: nothing to grant."""
    found = {s for r in requested for a in allowed if (s := _pair(r, a)) is not None}
    return tuple(sorted(found))


def _codings(resource: Mapping[str, Any], name: str) -> list[tuple[str | None, str | None]]:
    concepts = resource.get(name)
    if isinstance(concepts, dict):
        concepts = [concepts]
    found: list[tuple[str | None, str | None]] = []
    for concept in concepts if isinstance(concepts, list) else []:
        for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
            if isinstance(coding, dict):
                found.append((coding.get("system"), coding.get("code")))
    return found


def token_matches(value: str, codings: Sequence[tuple[str | None, str | None]]) -> bool:
    """A FHIR token search value (``system|code``, ``|code`` for no system, ``code`` for
    any system; comma-separated: any of them) against (system, code) pairs."""
    for part in value.split(","):
        system, bar, code = part.rpartition("|")
        for has_system, has_code in codings:
            if has_code != code:
                continue
            if not bar or (system == "" and not has_system) or system == has_system:
                return True
    return False


def constraint_holds(type_name: str, param: str, value: str, resource: Mapping[str, Any]) -> bool:
    if (type_name, param) not in CHECKED:
        return False
    return token_matches(value, _codings(resource, param))


def _covers(scope: Scope, type_name: str, interaction: Interaction) -> bool:
    return scope.type_name in ("*", type_name) and LETTER[interaction] in scope.permissions


def permits(
    grant: Grant,
    type_name: str,
    interaction: Interaction,
    resource: Mapping[str, Any] | None = None,
) -> bool:
    """Whether the grant allows ``interaction`` on ``type_name`` (on this ``resource``, when
    given: its scope's query constraints must hold on it). The patient tie is not checked
    here: the account's visibility already holds only that patient's records."""
    for scope in grant.scopes:
        if not _covers(scope, type_name, interaction):
            continue
        if not scope.constraints:
            return True
        if resource is not None and all(
            constraint_holds(type_name, p, v, resource) for p, v in scope.constraints
        ):
            return True
    return False


class ConstraintUnsupported(Exception):
    """The scopes' constraints cannot be written as one search filter."""


def search_constraint(
    grant: Grant, type_name: str, interaction: Interaction = "search"
) -> tuple[str, str] | None:
    """The filter a search must add so that every match is permitted: None when a scope
    without constraints covers the type; else (param, values) OR-ing the constrained scopes
    (``category=a,b``). ``ConstraintUnsupported`` when no scope covers the type at all, or
    when the scopes constrain different or unchecked parameters."""
    covering = [s for s in grant.scopes if _covers(s, type_name, interaction)]
    if not covering:
        raise ConstraintUnsupported(f"no scope allows {interaction} of {type_name}")
    if any(not s.constraints for s in covering):
        return None
    params = {p for s in covering for p, _ in s.constraints}
    if len(params) != 1 or any(len(s.constraints) != 1 for s in covering):
        raise ConstraintUnsupported("the scopes' constraints name more than one parameter")
    (param,) = params
    if (type_name, param) not in CHECKED:
        raise ConstraintUnsupported(f"{type_name} cannot be filtered by {param!r} for a scope")
    values = sorted({v for s in covering for _, v in s.constraints})
    return param, ",".join(values)
