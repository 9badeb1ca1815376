"""JSON error answers of the API, for the app routers and the API's own exception handlers.

Apps import ``json_response`` and ``problems_response`` from here; nothing here imports an app.
The body is rendered as Django Ninja renders every other answer of the API.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

_RENDERER = JSONRenderer()
CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"


def json_response(request: HttpRequest, data: Any, status: int) -> HttpResponse:
    """``data`` as the API's JSON, with ``status``."""
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
    return json_response(request, {"detail": problems}, status)


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
    return json_response(request, {"detail": "Not found"}, 404)


def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return json_response(request, {"detail": "Forbidden"}, 403)


def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return json_response(request, {"detail": "Unauthorized"}, 401)


def refused_response(request: HttpRequest, reasons: tuple[str, ...] | list[str]) -> HttpResponse:
    """409 for a write a rule refused: the reasons joined in ``detail`` and listed."""
    body: dict[str, Any] = {"detail": "; ".join(reasons), "reasons": list(reasons)}
    return json_response(request, body, 409)
