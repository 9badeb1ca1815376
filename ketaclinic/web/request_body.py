"""One strict reader for the request bodies of the JSON API and FHIR (issue 18 items 4, 8).

What every JSON body must be, on every endpoint (Django Ninja's and the hand-read ones alike):

- labelled ``application/json`` (FHIR: ``application/fhir+json`` or ``application/json``),
  with no charset or ``charset=utf-8``: no Content-Type, ``text/plain``, a form, or another
  charset (``iso-8859-1``, ``utf-16``) answers 415. JSON exchanged between systems is UTF-8
  (RFC 8259 section 8.1); a charset the reader would not honour is refused, not ignored;
- UTF-8 bytes without a byte-order mark (RFC 8259: "MUST NOT add a byte order mark"): a BOM,
  UTF-16 or UTF-32, or bytes that are not UTF-8 answer 415;
- no larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), nested at most
  ``strict_json.MAX_DEPTH`` levels (400), and JSON (400);
- no NUL and no lone surrogate in any string or key: 400 naming each field.

A body sent with ``Transfer-Encoding: chunked`` has no Content-Length, and Django reads a
WSGI body only as far as Content-Length says, so it saw an empty body (a chunked vitals post
answered 422 "Field required"). The WSGI server (granian) hands the application the
de-chunked bytes on ``wsgi.input`` until its end, so ``ChunkedBodyMiddleware`` reads them, up
to the same size limit (413 beyond), for every path, pages included: never dropped.

The API's refusals are RFC 9457 problem details (``application/problem+json``) with the field
list in ``errors`` (the shape of the API's 422 items: ``loc``, ``field``, ``msg``, ``type``).
FHIR reads its bodies with ``json_body`` and answers a refusal as an OperationOutcome.
Endpoints that take no body (an empty POST) are not asked for a Content-Type.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_header_parameters
from ninja.parser import Parser

from ketaclinic.lib.strict_json import StrictJsonError, json_path, strict_json_loads

API_PREFIX = "/api/v1/"
FHIR_PREFIX = "/fhir/"
API_MEDIA_TYPES = ("application/json",)
FHIR_MEDIA_TYPES = ("application/fhir+json", "application/json")
PROBLEM_CONTENT_TYPE = "application/problem+json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ_BLOCK = 64 * 1024
# Byte-order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
# Where a request's parsed body and a refusal met before the view are kept on the request.
_PARSED = "_ketaclinic_json_body"
_REFUSAL = "_ketaclinic_body_refusal"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    path: tuple[str | int, ...]
    message: str
    kind: str = "invalid"

    def as_json(self) -> dict[str, Any]:
        return {
            "loc": ["body", *self.path],
            "field": json_path(self.path),
            "msg": self.message,
            "type": self.kind,
        }


class BodyRefused(Exception):
    """The body cannot be read: ``status`` (400, 411, 413, 415), why, and which fields."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: tuple[FieldProblem, ...] = (),
        kind: str = "body",
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.kind = kind

    def __str__(self) -> str:
        return self.detail

    def problem_details(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTPStatus(self.status).phrase,  # as the API's other problems say it
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [problem.as_json() for problem in self.errors]
        return body


def problem_response(refusal: BodyRefused) -> HttpResponse:
    """The refusal as RFC 9457 problem details."""
    return HttpResponse(
        json.dumps(refusal.problem_details()),
        status=refusal.status,
        content_type=f"{PROBLEM_CONTENT_TYPE}; charset=utf-8",
    )


def media_type_problem(content_type: str, accepted: tuple[str, ...]) -> str | None:
    """Why a body labelled ``content_type`` is refused (415), or None."""
    media_type, params = parse_header_parameters(content_type or "")
    wanted = " or ".join(accepted)
    if not media_type:
        return f"send the body as {wanted} (no Content-Type was given)"
    if media_type.lower() not in accepted:
        return f"send the body as {wanted}, not {media_type.lower()}"
    charset = params.get("charset")
    if charset is not None and charset.strip().lower() not in UTF8_NAMES:
        return f"send the body in UTF-8 (charset=utf-8), not charset={charset.strip().lower()}"
    return None


def encoding_problem(body: bytes) -> str | None:
    """Why ``body`` is not plain UTF-8 (415), or None."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return f"the body starts with a {encoding} byte-order mark; send UTF-8 without one"
    # JSON text in UTF-16 or UTF-32 without a mark: ASCII characters with NUL bytes beside
    # them (RFC 4627 section 3); a JSON text in UTF-8 holds no raw NUL byte at all.
    if b"\x00" in body[:4]:
        return "the body is UTF-16 or UTF-32; send UTF-8"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    return None


def _is_chunked(request: HttpRequest) -> bool:
    coding = request.META.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in coding.lower() and not request.META.get("CONTENT_LENGTH")


def _limit() -> int:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return 2_621_440 if limit is None else int(limit)


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"the body is larger than {limit} bytes", kind="too_large")


def read_chunked_body(request: HttpRequest) -> None:
    """For a chunked body (no Content-Length), read the de-chunked bytes the WSGI server
    passes on ``wsgi.input`` to their end and hand them to Django as if Content-Length had
    said their size. ``BodyRefused`` 413 beyond the limit, 411 if the server gives no body
    stream to read."""
    if not _is_chunked(request):
        return
    stream = request.META.get("wsgi.input")
    if stream is None or not hasattr(stream, "read"):
        raise BodyRefused(411, "send the body with a Content-Length", kind="length_required")
    limit = _limit()
    parts: list[bytes] = []
    size = 0
    while True:
        block = stream.read(_READ_BLOCK)
        if not block:
            break
        size += len(block)
        if size > limit:
            raise _too_large(limit)
        parts.append(block)
    body = b"".join(parts)
    request.META["CONTENT_LENGTH"] = str(len(body))
    request._body = body  # Django's own cache of the body
    request._stream = io.BytesIO(body)  # for form parsing
    request._read_started = False  # type: ignore[attr-defined]  # set by HttpRequest.read


def _empty_multipart(request: HttpRequest) -> bool:
    """A multipart body with no part at all (its closing delimiter only), as some clients
    (Django's test client among them) send for a POST without data: no body."""
    media_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    boundary = params.get("boundary")
    if media_type != "multipart/form-data" or not boundary:
        return False
    if _content_length(request) > len(boundary) + 8:
        return False
    return request.body.strip() == f"--{boundary}--".encode()


def has_body(request: HttpRequest) -> bool:
    """Whether the request carries a body to read (an empty multipart one does not)."""
    if request.method not in _BODY_METHODS:
        return False
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True  # a malformed length: let the reader refuse what follows
    return length > 0 and not _empty_multipart(request)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BodyRefused(400, "the Content-Length is not a number") from None


def _strict_problems(exc: StrictJsonError) -> BodyRefused:
    first = exc.problems[0]
    if exc.kind == "bad_character":
        errors = tuple(
            FieldProblem(problem.path, problem.message, "bad_character") for problem in exc.problems
        )
        names = ", ".join(problem.as_json()["field"] for problem in errors)
        return BodyRefused(400, f"a string the API cannot store: {names}", errors, "bad_character")
    return BodyRefused(400, first.message, kind=first.kind)


def json_body(
    request: HttpRequest,
    accepted: tuple[str, ...] = API_MEDIA_TYPES,
    *,
    max_size: int | None = None,
) -> Any:
    """The JSON value of the request's body, read strictly (module docstring), once per
    request; ``BodyRefused`` says why it cannot be. ``max_size`` lowers the size limit."""
    refusal = getattr(request, _REFUSAL, None)
    if isinstance(refusal, BodyRefused):
        raise refusal
    if hasattr(request, _PARSED):
        return getattr(request, _PARSED)
    problem = media_type_problem(request.META.get("CONTENT_TYPE", ""), accepted)
    if problem is not None:
        raise BodyRefused(415, problem, kind="media_type")
    limit = _limit() if max_size is None else min(max_size, _limit())
    if _content_length(request) > limit or len(request.body) > limit:
        raise _too_large(limit)
    body = request.body
    problem = encoding_problem(body)
    if problem is not None:
        raise BodyRefused(415, problem, kind="encoding")
    try:
        data = strict_json_loads(body)
    except StrictJsonError as exc:
        raise _strict_problems(exc) from None
    setattr(request, _PARSED, data)
    return data


class StrictBodyMiddleware:
    """Reads chunked bodies for every path; reads and checks every JSON API body before the
    view (Django Ninja then takes the parsed value from ``StrictJsonParser``). FHIR's views
    read their bodies with ``json_body`` and answer refusals as OperationOutcomes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith(API_PREFIX)
        try:
            read_chunked_body(request)
            if api and has_body(request):
                json_body(request)
        except BodyRefused as refusal:
            if api:
                return problem_response(refusal)
            if request.path.startswith(FHIR_PREFIX):
                setattr(request, _REFUSAL, refusal)  # answered by the FHIR view, in its shape
            else:
                return HttpResponse(
                    refusal.detail, status=refusal.status, content_type="text/plain"
                )
        return self.get_response(request)


class StrictJsonParser(Parser):
    """Django Ninja's body parser, taking the value ``StrictBodyMiddleware`` read strictly."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_body(request)
