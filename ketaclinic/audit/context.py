"""The request id and client address of the request being served, for audit events; and the
request's batch of read events (see `audit.services.audit_record_many`)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str


_current: ContextVar[RequestContext | None] = ContextVar("ketaclinic_request", default=None)
_reads: ContextVar[list[Any] | None] = ContextVar("ketaclinic_request_reads", default=None)


def current() -> RequestContext | None:
    return _current.get()


def bind(context: RequestContext | None) -> object:
    return _current.set(context)


def unbind(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def reads_open() -> object:
    """Start collecting this request's read events (written by `reads_close`'s caller)."""
    return _reads.set([])


def reads_batch() -> list[Any] | None:
    """The open batch of read events, or None outside one (then each is written at once)."""
    return _reads.get()


def reads_close(token: object) -> list[Any]:
    """Stop collecting; the events collected, still to be written."""
    events = _reads.get() or []
    _reads.reset(token)  # type: ignore[arg-type]
    return events
