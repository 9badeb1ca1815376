"""The JSON API's side of idempotency: one pair of Ninja decorators for every write operation.

``idempotency_install(api, own_mechanism=...)`` registers them on the whole NinjaAPI (so that
a new POST, PUT or PATCH endpoint is covered without anyone remembering it), and
``idempotency_document(schema)`` lists the ``Idempotency-Key`` header on those operations in
the OpenAPI document. See the package docstring for the behaviour.

Two decorators because the key is scoped to the authenticated user and the answer is the one
the client receives: the view-mode one wraps the whole operation (authentication, validation,
the view, the exception handlers) in one transaction and stores or releases the answer; the
operation-mode one runs after authentication and validation, inside that transaction, and
reserves the key (or answers with the earlier answer, or a 422 for a reused key).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import NinjaAPI

from ketaclinic.api.errors import problem_response
from ketaclinic.idempotency import services
from ketaclinic.idempotency.services import KEY_MAX_LENGTH

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_STATE = "_ketaclinic_idempotency"
_OWN_MECHANISM: set[Callable[..., Any]] = set()

PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
    "description": (
        "Makes the write safe to retry: a unique value per intended write (a UUID), "
        f"1-{KEY_MAX_LENGTH} visible ASCII characters. A retry with the same key and the same "
        f"request answers as the first did (with `{REPLAYED_HEADER}: true`) and stores "
        "nothing again; the same key with another body answers 422 and stores nothing. "
        "Keys are per user and kept 24 hours."
    ),
}


@dataclass
class _State:
    key: str
    fingerprint: str
    reservation: services.Reservation | None = None


class _Answered(Exception):
    """Raised inside the operation to answer without running the view."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("answered from the idempotency store")
        self.response = response


class _RolledBack(Exception):
    def __init__(self, response: HttpResponseBase) -> None:
        super().__init__("server error: the write and its key rolled back")
        self.response = response


def _key_problem(request: HttpRequest, msg: str, kind: str, status: int = 422) -> HttpResponse:
    """A problem naming the header; ``kind`` (``idempotency_key_reused``) is the field
    problem's type, and in dashes the problem's (``urn:ketaclinic:problem:idempotency-key-
    reused``)."""
    problem = {"loc": ["header", HEADER], "field": HEADER, "msg": msg, "type": kind}
    return problem_response(request, status, [problem], kind=kind.replace("_", "-"))


def _answer(request: HttpRequest, reservation: services.Reservation) -> HttpResponse:
    if isinstance(reservation, services.Replay):
        record = reservation.record
        response = HttpResponse(
            bytes(record.body), status=record.status, content_type=record.content_type
        )
        if record.location:
            response["Location"] = record.location
        response[REPLAYED_HEADER] = "true"
        return response
    if isinstance(reservation, services.Mismatch):
        return _key_problem(
            request,
            "This key was used for a different request. Nothing was stored: "
            "use a new key for a new write.",
            "idempotency_key_reused",
        )
    return _key_problem(
        request,
        "The first request with this key is still running. Retry in a moment.",
        "idempotency_key_in_progress",
        409,
    )


def _own_mechanism(view_func: Callable[..., Any]) -> bool:
    return inspect.unwrap(view_func) in _OWN_MECHANISM


def _reserving(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Operation mode: after authentication and validation, inside the write's transaction."""
    if _own_mechanism(view_func):
        return view_func

    @functools.wraps(view_func)
    def reserve_then_run(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        state: _State | None = getattr(request, _STATE, None)
        user = getattr(request, "auth", None)
        if state is not None and getattr(user, "pk", None) is not None:
            state.reservation = services.idempotency_reserve(
                user=user, key=state.key, fingerprint=state.fingerprint
            )
            if not isinstance(state.reservation, services.Reserved):
                raise _Answered(_answer(request, state.reservation))
        return view_func(request, *args, **kwargs)

    return reserve_then_run


def _transactional(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """View mode: around the whole operation (``run`` is the bound ``Operation.run``)."""
    operation = getattr(run, "__self__", None)
    view_func = getattr(operation, "view_func", None)
    if view_func is None or _own_mechanism(view_func):
        return run

    @functools.wraps(run)
    def run_once(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = (request.headers.get(HEADER) or "").strip()
        if request.method not in WRITE_METHODS or not key:
            return run(request, *args, **kwargs)
        if not services.idempotency_key_valid(key):
            return _key_problem(
                request,
                f"1-{KEY_MAX_LENGTH} visible ASCII characters (a UUID is a good key).",
                "idempotency_key_invalid",
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return run(request, *args, **kwargs)  # answered 413 by the API's handler
        state = _State(
            key=key,
            fingerprint=services.idempotency_fingerprint(
                method=request.method or "", path=request.get_full_path(), body=body
            ),
        )
        setattr(request, _STATE, state)
        try:
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                reserved = state.reservation
                if isinstance(reserved, services.Reserved):
                    if response.status_code >= 500:
                        raise _RolledBack(response)
                    if 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
                        services.idempotency_store(
                            reserved.record,
                            status=response.status_code,
                            content_type=response.get("Content-Type", ""),
                            body=response.content,
                            location=response.get("Location", ""),
                        )
                    else:
                        services.idempotency_release(reserved.record)
        except _RolledBack as rolled_back:
            return rolled_back.response
        return response

    return run_once


def _answered(request: HttpRequest, exc: _Answered) -> HttpResponse:
    return exc.response


def idempotency_install(api: NinjaAPI, *, own_mechanism: Iterable[Callable[..., Any]] = ()) -> None:
    """Make every POST, PUT and PATCH operation of ``api`` honour ``Idempotency-Key``.

    ``own_mechanism`` names view functions that keep their own (the vitals post: its key is
    stored on the reading, in the hot path's one locked query); they are left alone."""
    _OWN_MECHANISM.update(own_mechanism)
    api.add_decorator(_reserving, mode="operation")
    api.add_decorator(_transactional, mode="view")
    api.exception_handler(_Answered)(_answered)


def idempotency_document(schema: dict[str, Any]) -> dict[str, Any]:
    """List the header on every authenticated POST, PUT and PATCH operation of ``schema``
    (an anonymous one, such as the public inquiry form, has no user to scope a key to)."""
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method.upper() not in WRITE_METHODS or not operation.get("security"):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER for p in parameters):
                parameters.append(dict(PARAMETER))
    return schema
