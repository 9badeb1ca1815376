"""A program's FHIR read goes straight to its view (issue 16).

The middleware after this one in ``settings.MIDDLEWARE`` serves people in a browser: the
session, the language, common URL fixes, CSRF, the signed-in user, 2FA, the patient's
language, messages, frame and content-security headers, the login lockout. For a GET or HEAD
under ``/fhir/R4/`` with ``Authorization: Bearer`` and no cookie none of them does anything
the answer depends on: the FHIR views authenticate by the token alone (``fhir_caller``), are
exempt from CSRF, answer in no language of the visitor's (translations travel inside the
resources), and never touch the session. Running them cost ~20 % of a search's CPU. So such
a request is resolved and its view called here, and the answer gets the headers those layers
would have added (``Content-Length``, ``X-Frame-Options``, the clinic's
``Content-Security-Policy``). Everything before this layer (security headers, no-store, the
request id, OperationOutcome errors, the 503 for an unreachable database, the strict body,
the audited reads) runs for every request as before; any other request (a path that does not
resolve, another method, a cookie, no bearer token) takes the whole chain.
``tests/test_bearer_shortcut.py`` compares both answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, get_resolver

from ketaclinic.api.fallback import program_exception_answer

PREFIX = "/fhir/R4/"


def _shortcut(request: HttpRequest) -> bool:
    meta = request.META
    return (
        request.method in ("GET", "HEAD")
        and request.path_info.startswith(PREFIX)
        and str(meta.get("HTTP_AUTHORIZATION", ""))[:7].lower() == "bearer "
        and not meta.get("HTTP_COOKIE")
    )


@functools.cache
def _csp_headers() -> tuple[tuple[str, str], ...]:
    """The Content-Security-Policy headers django-csp writes on an answer under /fhir/R4/
    (no nonce is ever asked for there, so they are the same for every one)."""
    probe = HttpRequest()
    probe.path = probe.path_info = PREFIX
    answer = HttpResponse()
    CSPMiddleware(lambda request: answer).process_response(probe, answer)
    return tuple(
        (name, value)
        for name, value in answer.headers.items()
        if name.lower().startswith("content-security-policy")
    )


@functools.lru_cache(maxsize=1024)
def _resolved(path: str) -> ResolverMatch:
    """The URL's match, kept for the next request of the same path (a search's path is the
    same every time: walking the clinic's URL patterns to it cost ~5 % of a search's CPU).
    A match is never changed after it is made; Resolver404 is not kept."""
    return get_resolver().resolve(path)


class BearerShortcutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _shortcut(request):
            return self.get_response(request)
        try:
            match = _resolved(request.path_info)
        except Resolver404:
            return self.get_response(request)
        request.resolver_match = match
        try:
            response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        except Exception as exc:
            # As the whole chain answers a view's exception: the program's answer (503, 422,
            # a logged 500), else Django's (404, 403, 400), worded for the program outside.
            answer = program_exception_answer(request, exc)
            if answer is None:
                raise
            response = answer
        if not response.streaming and "Content-Length" not in response:
            response["Content-Length"] = str(len(response.content))
        if not getattr(response, "xframe_options_exempt", False):
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS.upper())
        if not getattr(response, "_csp_exempt", False):
            for name, value in _csp_headers():
                response.headers.setdefault(name, value)
        return response
