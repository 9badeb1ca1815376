from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ketaclinic.audit import context
from ketaclinic.audit.services import audit_reads_flush


def _ip_address(entry: str) -> str | None:
    """The entry as a canonical IP address, or None (ports, zone ids and junk are refused)."""
    try:
        address = ipaddress.ip_address(entry.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return None
    return str(address)


def client_address(request: HttpRequest) -> str:
    """The client's address as far as the clinic's own proxies vouch for it.

    The one function for the audit trail, the link and inquiry rate limits and the login
    lockout (``AXES_CLIENT_IP_CALLABLE``). With ``KETACLINIC_TRUSTED_PROXIES`` = N > 0, each
    trusted proxy appended the address it saw to ``X-Forwarded-For``, so the N-th entry from
    the right is the one the outermost proxy saw; everything left of it came from the client
    and is never used. If that entry is missing or is not an IP address, ``REMOTE_ADDR``.
    """
    peer = str(request.META.get("REMOTE_ADDR", ""))[:64]
    proxies: int = settings.KETACLINIC_TRUSTED_PROXIES
    if proxies <= 0:
        return peer
    entries = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    if len(entries) < proxies:
        return peer
    return _ip_address(entries[-proxies]) or peer


class RequestContextMiddleware:
    """Give every request an id of the app's own making, and the trusted client address.

    A client's ``X-Request-ID`` is not used: it would be written verbatim into the hash-chained
    trail. The answer's ``X-Request-ID`` is the app's id, so a client or proxy can quote it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        token = context.bind(context.RequestContext(request_id, client_address(request)))
        try:
            response = self.get_response(request)
        finally:
            context.unbind(token)
        response["X-Request-ID"] = request_id
        return response


class RequestReadsMiddleware:
    """Record a page's reads of patient data together: during a GET or HEAD, each read event is
    collected (`audit_record_many`) and all are written in one statement when the view has
    answered, before the answer leaves. If they cannot be written the request fails (a 500, or
    a 503 when the database is unreachable) and nothing read is shown. Writes, and every event
    of other methods, are recorded at once, inside the change's transaction.

    Inside the request-id middleware (the events carry its id) and inside the error middleware
    (a failure is answered as for any other error of the database)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        token = context.reads_open()
        try:
            return self.get_response(request)
        finally:
            audit_reads_flush(context.reads_close(token))
