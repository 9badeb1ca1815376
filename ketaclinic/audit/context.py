"""The request id and client address of the request being served, for audit events."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str


_current: ContextVar[RequestContext | None] = ContextVar("ketaclinic_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def bind(context: RequestContext | None) -> object:
    return _current.set(context)


def unbind(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
