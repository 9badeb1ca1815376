"""``Cache-Control: no-store`` on every answer that may carry patient data (issue 18 item 9).

The rule is "no-store unless listed below", so that a new page, endpoint or error answer is
safe without anyone remembering it: every answer to a signed-in user or to a request with an
``Authorization`` header (API, FHIR), every patient link, kiosk and consent-link page, every
error. A view that already sets ``no-store`` (``@never_cache`` on the link pages, the consent
PDF) keeps its own header; any other ``Cache-Control`` a view sets is replaced, since a weaker
one on patient data would be a leak.

The exceptions, all of them here, each with its reason:

- static files: WhiteNoise, placed before this middleware in ``settings.MIDDLEWARE``, answers
  ``/static/`` itself; they are the same for everyone and hold no patient data, and their
  hashed names are meant to be cached.
- the public site's pages (the ``site`` namespace) for an anonymous visitor without an
  ``Authorization`` header: the clinic's public text, the same for every visitor. (The
  self-screen and inquiry forms set their own ``never_cache``, which is kept.)
- the health check (``web:healthz``): no data at all; a monitor may cache it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

NO_STORE = "no-store"
CACHEABLE_NAMESPACES = frozenset({"site"})  # the public site, for anonymous visitors only
CACHEABLE_ROUTES = frozenset({"web:healthz"})  # for everyone


def _directives(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _cacheable(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    if match.view_name in CACHEABLE_ROUTES:
        return True
    if match.namespace not in CACHEABLE_NAMESPACES:
        return False
    if request.META.get("HTTP_AUTHORIZATION"):
        return False
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _cacheable(request):
            return response
        if NO_STORE not in _directives(response.get("Cache-Control", "")):
            response["Cache-Control"] = NO_STORE
        by_token = bool(request.META.get("HTTP_AUTHORIZATION"))
        patch_vary_headers(response, ("Authorization",) if by_token else ("Cookie",))
        return response
