"""JSON error answers of the API, for the app routers and the API's own exception handlers.

Every error of the API is an RFC 9457 problem details object, ``application/problem+json``:
``type`` (a URI reference; ``about:blank`` when the status says it all), ``title`` (the
status's phrase), ``status``, ``detail``, and extension members where an answer has more to
say (``reasons`` of a refused write). For compatibility with the clients written against
the first version of the API, a 422's ``detail`` stays the list of problems, each with its
field path (``loc``, ``field``, ``msg``, ``type``); RFC 9457 section 3.1 lets a generic
consumer ignore a member of an unexpected type, and the same list is ``errors``.

Apps import ``json_response``, ``problems_response`` and ``refused_response`` from here;
nothing here imports an app. The body is rendered as Django Ninja renders every other answer.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

_REQUEST_LOG = logging.getLogger("django.request")
_RENDERER = JSONRenderer()
CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:ketaclinic:problem:"
"""The ``type`` of a problem specific to KetaClinic: a name, not a page (the README lists them).
Any other problem is ``about:blank``: its status says what it is."""

RETRY_AFTER_SECONDS = 5
"""What a 503 tells a client to wait: a PostgreSQL restart takes a few seconds."""


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, detail: Any, *, kind: str | None = None, **extra: Any) -> dict[str, Any]:
    """A problem details object; ``kind`` makes a specific ``type`` under our base URI."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + kind if kind else "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
    }
    if isinstance(detail, list):
        body["errors"] = detail
    body.update(extra)
    return body


def problem_response(
    request: HttpRequest,
    status: int,
    detail: Any,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    content = _RENDERER.render(
        request, problem(status, detail, kind=kind, **extra), response_status=status
    )
    response = HttpResponse(content, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_response(request: HttpRequest, data: Any, status: int) -> HttpResponse:
    """``data`` as the API's JSON, with ``status``; an error (4xx, 5xx) as problem details,
    ``data``'s members kept."""
    if status >= 400 and isinstance(data, dict):
        extra = {k: v for k, v in data.items() if k not in {"type", "title", "status"}}
        detail = extra.pop("detail", _title(status))
        return problem_response(request, status, detail, **extra)
    content = _RENDERER.render(request, data, response_status=status)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPE)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # loc is ("body", "payload", "birth_date") or ("query", "q"): keep the part a caller wrote.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in {"query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def problems_response(
    request: HttpRequest, problems: list[dict[str, Any]], status: int = 422
) -> HttpResponse:
    return problem_response(request, status, problems)


def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        loc = error.get("loc", ())
        problems.append(
            {
                "loc": list(loc),
                "field": field_path(loc),
                "msg": error.get("msg", "invalid"),
                "type": error.get("type", "invalid"),
            }
        )
    return problems_response(request, problems)


def model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    problems = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                problems.append(
                    {"loc": ["body", field], "field": field, "msg": message, "type": "invalid"}
                )
    else:
        for message in exc.messages:
            problems.append({"loc": ["body"], "field": "body", "msg": message, "type": "invalid"})
    return problems_response(request, problems)


def not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return problem_response(request, 404, "Not found")


def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem_response(request, 403, "Forbidden")


def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(request, 401, "Unauthorized")


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, exc.status_code, str(exc) or _title(exc.status_code))


def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem_response(
        request, 413, "The request body is larger than the API accepts.", kind="body-too-large"
    )


def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """422 for a value the database cannot hold (an id of 2**70: SQLite's OverflowError,
    PostgreSQL's DataError); the database's message, which may quote the value, not shown."""
    problem = {
        "loc": ["body"],
        "field": "body",
        "msg": "A value is out of the range the clinic's database can store.",
        "type": "out_of_range",
    }
    return problems_response(request, [problem])


def database_unavailable(request: HttpRequest, exc: Exception | None = None) -> HttpResponse:
    """503 while the database cannot be reached (a restart, a failover): retry shortly. The
    exception's text (the database's own message) is not shown."""
    return problem_response(
        request,
        503,
        "The database is not reachable at the moment; nothing was stored. Retry shortly.",
        kind="database-unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """500 for an unhandled exception: logged with its traceback by Django's request logger
    (as Django logs the 500s it answers itself), never shown: no traceback, no patient data."""
    _REQUEST_LOG.error("Internal Server Error: %s", request.path, exc_info=exc)
    return problem_response(
        request,
        500,
        "The server could not complete the request. Nothing more is shown here; the error "
        "was logged with this answer's X-Request-ID.",
    )


def too_many_requests(request: HttpRequest, detail: str, retry_after: int | None) -> HttpResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return problem_response(request, 429, detail, headers=headers)


def refused_response(request: HttpRequest, reasons: tuple[str, ...] | list[str]) -> HttpResponse:
    """409 for a write a rule refused: the reasons joined in ``detail`` and listed."""
    return problem_response(request, 409, "; ".join(reasons), reasons=list(reasons))
