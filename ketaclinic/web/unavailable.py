"""503 with Retry-After while the database cannot be reached (issue 18, item 13).

A request that fails because the database is down (refused connection, a connection cut by a
restart, a server shutting down; SQLite's "database is locked" after its busy timeout) is
answered 503 with `Retry-After` instead of 500: a plain page for people. Under /api/ and
/fhir/ the answer is a bare 503 that `ketaclinic.api.fallback.ProgramErrorsMiddleware` (just
outside this one) words as problem details or an OperationOutcome, keeping Retry-After; the
API's own exception handlers answer the errors raised inside an operation first. Nothing else
changes: other errors stay 500.

Django turns an exception raised in a view or in any middleware into a 500 response before an
outer middleware could see it, but it first sends `got_request_exception` with the exception
in hand; the receiver here marks the request, and the middleware swaps the 500 for the 503.

Connections broken by a restart are replaced before the next request uses them:
`CONN_HEALTH_CHECKS` in settings (one `SELECT 1` when a request first uses its connection),
so requests that arrive after the database is back do not fail.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 5
_MARK = "_ketaclinic_database_unavailable"
# SQLSTATE classes of a lost or refused connection: 08 connection exception; 57P01-57P03 the
# server shutting down, crashed or not yet accepting connections (PostgreSQL appendix A).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")
JSON_PREFIXES = ("/api/", "/fhir/")


def database_unavailable(error: BaseException | None) -> bool:
    """Whether this exception says the database cannot be reached right now."""
    if isinstance(error, InterfaceError):
        return True  # the connection is already closed
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if cause is not None and hasattr(cause, "sqlstate"):
        # psycopg: no SQLSTATE at all when no server answered (refused, reset, timed out).
        return sqlstate is None or str(sqlstate).startswith(_UNAVAILABLE_STATES)
    return "database is locked" in str(error)  # SQLite, after its busy timeout


def _mark(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None and database_unavailable(sys.exc_info()[1]):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark, dispatch_uid="ketaclinic.web.unavailable")


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(JSON_PREFIXES):
        # Worded for programs by ProgramErrorsMiddleware (api/fallback.py), just outside.
        response = HttpResponse(
            "The database cannot be reached. Retry later.", status=503, content_type="text/plain"
        )
    else:
        # No request context: the navigation and the user would need the database.
        page = render_to_string("web/unavailable.html", {"seconds": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            return unavailable_response(request)
        return response
