"""Error answers for programs where Django, not the API's own handlers, would answer.

The JSON API's exception handlers (``ketaclinic/api/v1.py``) answer what happens inside an
operation. Some errors happen elsewhere, and Django answers them with an HTML page meant for a
browser: an unknown path or method, an exception in a FHIR view or in a middleware (the
database gone, a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``), the sign-in lockout that
django-axes renders as a page with the navigation and a CSRF token. For a program that page
is noise, and it may set cookies. ``ProgramErrorsMiddleware`` makes every error under
``/api/v1/`` an RFC 9457 problem (``application/problem+json``) and every error under
``/fhir/R4/`` an OperationOutcome, with the same status (413 for a body over the limit, 503
with ``Retry-After`` while the database is unreachable, 500 for anything unhandled: no
traceback, no patient data; the traceback goes to the ``django.request`` log as Django's own).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase

from ketaclinic.api import errors
from ketaclinic.fhir.outcome import Issue, IssueCode, operation_outcome_json

API_PREFIX = "/api/v1/"
FHIR_PREFIX = "/fhir/R4/"
FHIR_CONTENT_TYPE = "application/fhir+json; charset=utf-8"
PROGRAM_MEDIA_TYPES = ("application/json", "application/problem+json", "application/fhir+json")
KEPT_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate")

_LOG = logging.getLogger("django.request")
DJANGO_ANSWERS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest, MultiPartParserError)

FHIR_CODES: dict[int, IssueCode] = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "business-rule",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}

DETAILS: dict[int, str] = {
    404: "Not found",
    405: "This method is not allowed here.",
    413: "The request body is larger than the server accepts.",
    422: "A value is out of the range the clinic's database can store.",
    429: "Too many failed attempts. Try again after the time given in Retry-After.",
    500: "The server could not complete the request.",
    503: "The database is not reachable at the moment; nothing was stored. Retry shortly.",
}


def _lockout_seconds() -> int:
    hours = float(getattr(settings, "AXES_COOLOFF_TIME", 0) or 0)
    return max(1, round(hours * 3600))


def _program(request: HttpRequest) -> str | None:
    path = request.path
    if path.startswith(API_PREFIX):
        return "api"
    if path.startswith(FHIR_PREFIX):
        return "fhir"
    return None


def _detail(status: int) -> str:
    if status in DETAILS:
        return DETAILS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_answer(
    request: HttpRequest, status: int, headers: dict[str, str] | None = None
) -> HttpResponse:
    """The program's error answer for ``status``: a problem (API) or an OperationOutcome."""
    headers = dict(headers or {})
    if status == 503:
        headers.setdefault("Retry-After", str(errors.RETRY_AFTER_SECONDS))
    if status == 429:
        headers.setdefault("Retry-After", str(_lockout_seconds()))
    if _program(request) == "fhir":
        code: IssueCode = FHIR_CODES.get(status, "exception")
        issue = Issue(code, _detail(status))
        response = HttpResponse(
            json.dumps(operation_outcome_json([issue])),
            status=status,
            content_type=FHIR_CONTENT_TYPE,
        )
        for name, value in headers.items():
            response[name] = value
        return response
    return errors.problem_response(request, status, _detail(status), headers=headers)


def _media_type(response: HttpResponseBase) -> str:
    return str(response.get("Content-Type", "")).split(";")[0].strip().lower()


def _as_problem(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """An error a view answered as plain JSON (``Status(429, {"detail": ...})``) as a problem,
    its members kept."""
    try:
        data = json.loads(getattr(response, "content", b"") or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {"detail": _detail(response.status_code)}
    kept = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    answer = errors.json_response(request, data, response.status_code)
    for name, value in kept.items():
        answer[name] = value
    return answer


def _body_too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


class ProgramErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        program = _program(request)
        if response.status_code < 400 or program is None:
            return response
        media_type = _media_type(response)
        if program == "api" and media_type == "application/json":
            return _as_problem(request, response)
        if media_type in PROGRAM_MEDIA_TYPES:
            return response
        status = response.status_code
        if status == 400 and _body_too_large(request):
            status = 413
        kept = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        return error_answer(request, status, kept)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return program_exception_answer(request, exc)


def program_exception_answer(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    """A program's answer to an exception a view raised (None: Django answers it, and
    ``ProgramErrorsMiddleware.__call__`` then words that answer for the program). Also used by
    the FHIR bearer shortcut (``fhir/middleware.py``), which calls its views itself."""
    if _program(request) is None:
        return None
    if isinstance(exc, OperationalError | InterfaceError):
        # The class only: the database's message may quote the statement's values.
        _LOG.warning("Database unavailable (%s): %s", type(exc).__name__, request.path)
        return error_answer(request, 503)
    if isinstance(exc, RequestDataTooBig):
        return error_answer(request, 413)
    if isinstance(exc, OverflowError | DataError):
        return error_answer(request, 422)
    if isinstance(exc, DJANGO_ANSWERS):
        return None  # Django answers these (404, 403, 400); __call__ makes that a problem
    _LOG.error("Internal Server Error: %s", request.path, exc_info=exc)
    return error_answer(request, 500)
