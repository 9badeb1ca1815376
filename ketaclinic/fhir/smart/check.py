"""A SMART access token's scopes against each FHIR request: before the view (type and
interaction, the search filter a constrained scope adds, the body of a write) and after it
(a read under a constrained scope). A person's API token is never checked here."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict

from ketaclinic.fhir.registry import ORGANIZATION, QUESTIONNAIRE, TYPES
from ketaclinic.fhir.smart.rules.requests import Asked, request_asks
from ketaclinic.fhir.smart.rules.scopes import (
    LETTER,
    ConstraintUnsupported,
    Grant,
    Interaction,
    permits,
    search_constraint,
)

FHIR_BASE = "/fhir/R4/"


def asked_of(request: HttpRequest) -> Asked:
    return request_asks(request.method or "GET", request.path.removeprefix(FHIR_BASE))


def _search_params(type_name: str) -> set[str]:
    kind = TYPES.get(type_name) or {
        "Questionnaire": QUESTIONNAIRE,
        "Organization": ORGANIZATION,
    }.get(type_name)
    return {p.name for p in kind.params} if kind is not None else set()


def _covered(grant: Grant, type_name: str, interaction: Interaction) -> bool:
    """Some scope covers it, perhaps only with query constraints."""
    letter = LETTER[interaction]
    return any(s.type_name in ("*", type_name) and letter in s.permissions for s in grant.scopes)


def _not_allowed(interaction: str, type_name: str) -> str:
    return f"this access token's scopes do not allow {interaction} of {type_name}"


def _export_refusal(grant: Grant, asked: Asked, request: HttpRequest) -> str | None:
    """Bulk Data (interop.md section 5): the scopes must cover every exported type named in
    ``_type`` (GET; a POST's Parameters are checked at kick-off, bulk/access.py); a group
    export needs Group read. Without ``_type`` the export holds the types the scopes cover
    (the IG: "all supported resources within the scope of the client authorization")."""
    types = [t for v in request.GET.getlist("_type") for t in v.split(",") if t]
    if asked.type_name == "Group" and not _covered(grant, "Group", "read"):
        return _not_allowed("read", "Group")
    if not any("s" in s.permissions for s in grant.scopes):
        return _not_allowed("search", "any resource type")
    refused = [t for t in types if not _covered(grant, t, "search")]
    return _not_allowed("search", ", ".join(refused)) if refused else None


def request_refusal(grant: Grant, request: HttpRequest) -> str | None:
    """Why the grant does not allow this request (None: go on). A search under a constrained
    scope gets the scope's filter added to its parameters, as if the client had sent it (so
    ``total`` and paging count only what it may see, and ``link[self]`` shows the filter)."""
    asked = asked_of(request)
    if asked.kind == "open":
        return None
    if asked.kind == "export":
        return _export_refusal(grant, asked, request)
    if asked.kind == "export-status":
        return None  # the export's own program only: bulk/access.export_visible
    if asked.kind == "transaction":
        # Each entry is checked against the scopes, all or nothing (importing/transaction.py).
        if any("c" in s.permissions for s in grant.scopes):
            return None
        return _not_allowed("create", "any resource type")
    if asked.kind == "unknown" or asked.type_name is None or asked.interaction is None:
        return "this endpoint is not open to SMART access tokens"
    type_name, interaction = asked.type_name, asked.interaction
    if permits(grant, type_name, interaction):
        return None
    if not _covered(grant, type_name, interaction):
        return _not_allowed(interaction, type_name)
    if interaction == "search":
        try:
            constraint = search_constraint(grant, type_name)
        except ConstraintUnsupported as exc:
            return str(exc)
        if constraint is None:
            return None
        param, value = constraint
        if param not in _search_params(type_name):
            return f"{type_name} cannot be searched by {param!r}, which this token's scope needs"
        query: QueryDict = request.GET.copy()
        query.appendlist(param, value)
        request.GET = query  # type: ignore[assignment]  # a copy with the filter, for the view
        return None
    if interaction in ("create", "update"):
        try:
            resource = json.loads(request.body or b"null")
        except ValueError:
            return None  # the view answers the malformed body
        if not isinstance(resource, dict) or not permits(grant, type_name, interaction, resource):
            return _not_allowed(f"{interaction} (with this content)", type_name)
        return None
    if interaction == "read":
        return None  # checked on the answer: ``response_refusal``
    return _not_allowed(interaction, type_name)


def response_refusal(grant: Grant, request: HttpRequest, response: HttpResponse) -> str | None:
    """A read allowed only by a constrained scope: the resource read must satisfy it."""
    asked = asked_of(request)
    if asked.kind != "resource" or asked.interaction != "read" or asked.type_name is None:
        return None
    if response.status_code != 200 or permits(grant, asked.type_name, "read"):
        return None
    try:
        resource: Any = json.loads(response.content)
    except ValueError:
        return _not_allowed("read", asked.type_name)
    if isinstance(resource, dict) and permits(grant, asked.type_name, "read", resource):
        return None
    return _not_allowed("read", asked.type_name)
