"""The error answers of every operation, written into the OpenAPI document (issue 18 item 12).

Django Ninja documents the answers a view declares; the errors come from the API's exception
handlers and ``fallback.ProgramErrorsMiddleware``, for every operation alike, so they are
documented here, in one place, from the same rules the handlers follow:

- 400, 404 and 422 on every operation (a malformed request, an unknown or hidden object, a
  value that fails validation); 401 and 403 on every authenticated operation;
- 413 (body over the limit) and 415 (a body that is not JSON) on every operation with a body;
- 409 where an operation declares it (a write a rule refused) and on every write that honours
  ``Idempotency-Key`` (the key's first request still running);
- 429 where it can happen: the public inquiry's rate limit, and every operation whose body
  carries a second person's password (the sign-in lockout counts those attempts);
- 503 with ``Retry-After`` on every operation (the database unreachable).

Every error body is ``application/problem+json`` (RFC 9457), schema ``Problem``; a 422's
``detail`` is the list of field problems (``ValidationProblem``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ketaclinic.api.errors import PROBLEM_CONTENT_TYPE

REF = "#/components/schemas/"
FIELD_PROBLEM: dict[str, Any] = {
    "type": "object",
    "title": "FieldProblem",
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "field": {"type": "string", "description": "The field's path as the client wrote it."},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "required": ["field", "msg", "type"],
}
_COMMON: dict[str, Any] = {
    "type": {
        "type": "string",
        "description": "A URI reference; about:blank when the status says it all.",
    },
    "title": {"type": "string"},
    "status": {"type": "integer"},
}
PROBLEM: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "properties": {
        **_COMMON,
        "detail": {"type": "string"},
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "description": "A refused write's reasons (409).",
        },
    },
    "required": ["type", "title", "status", "detail"],
}
VALIDATION_PROBLEM: dict[str, Any] = {
    "type": "object",
    "title": "ValidationProblem",
    "description": (
        "RFC 9457 problem details of a 422: `detail` (kept for the API's first clients) and "
        "`errors` both list every field problem."
    ),
    "properties": {
        **_COMMON,
        "detail": {"type": "array", "items": {"$ref": REF + "FieldProblem"}},
        "errors": {"type": "array", "items": {"$ref": REF + "FieldProblem"}},
    },
    "required": ["type", "title", "status", "detail"],
}
RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
DESCRIPTIONS: dict[int, str] = {
    400: "The request is malformed.",
    401: "No valid bearer token or verified session.",
    403: "The role may not do this.",
    404: "Not found, or not the caller's to see.",
    409: "Refused by a rule of the clinic (the reasons are listed), or the first request with "
    "this Idempotency-Key is still running.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON in UTF-8.",
    422: "A value failed validation (every field problem listed), or an Idempotency-Key was "
    "reused for a different request.",
    429: "Too many attempts: the sign-in lockout (a second person's password), or a rate limit.",
    503: "The database is unreachable; nothing was stored. Retry after Retry-After seconds.",
}


def _names(schema: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name in ``schema``, following ``$ref``s, ``items`` and combinators."""
    if isinstance(schema, list):
        return set().union(*(_names(s, components, seen) for s in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        name = ref.removeprefix(REF)
        if name in seen:
            return set()
        seen.add(name)
        return _names(components.get(name, {}), components, seen)
    names = set(schema.get("properties", {}))
    for value in schema.get("properties", {}).values():
        names |= _names(value, components, seen)
    for key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
        if key in schema:
            names |= _names(schema[key], components, seen)
    return names


def _carries_password(operation: dict[str, Any], components: dict[str, Any]) -> bool:
    content = operation.get("requestBody", {}).get("content", {})
    return any(
        "password" in name
        for media in content.values()
        for name in _names(media.get("schema", {}), components, set())
    )


def _statuses(operation: dict[str, Any], components: dict[str, Any]) -> set[int]:
    declared = {int(code) for code in operation.get("responses", {}) if str(code).isdigit()}
    statuses = {400, 404, 422, 503} | {code for code in declared if code >= 400}
    if operation.get("security"):
        statuses |= {401, 403}
    if "requestBody" in operation:
        statuses |= {413, 415}
    headers = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "header"}
    if "Idempotency-Key" in headers:
        statuses.add(409)
    if _carries_password(operation, components):
        statuses.add(429)
    return statuses


def errors_documented(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("FieldProblem", FIELD_PROBLEM)
    components.setdefault("Problem", PROBLEM)
    components.setdefault("ValidationProblem", VALIDATION_PROBLEM)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(operation, components)):
                name = "ValidationProblem" if status == 422 else "Problem"
                answer: dict[str, Any] = {
                    "description": DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": REF + name}}},
                }
                if status in (429, 503):
                    answer["headers"] = RETRY_AFTER
                responses.pop(str(status), None)
                responses[status] = answer  # Django Ninja keys them by number
    return schema
