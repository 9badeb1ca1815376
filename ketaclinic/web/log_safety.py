"""Logging that cannot carry patient data (issue 18 item 6).

An exception's message is where patient data leaks into a log: PostgreSQL's error context and
``DETAIL: Failing row contains (...)`` quote the row, a ``ValidationError`` quotes the value,
an SMTP refusal names the recipient. So no log record keeps one. Every record is made safe
when it is created (a log-record factory, installed by the web app's ``ready()``), before any
handler sees it, whichever handler a deployment adds:

- ``exc_info`` is replaced by a summary: where it happened (file, line, function of each
  frame), the exception's class and the classes it was raised from, and the request id that
  the audit trail and the ``X-Request-ID`` header carry; never a message, never a local;
- an exception passed as the message or as an argument (``logger.warning("%s", exc)``) is
  logged as its class name.

The SQL log is off as well (``django.db.backends`` at WARNING in ``settings.LOGGING``): with
debug on Django logs every statement with its parameters. A request's 500 is logged by Django
(``django.request``) as "Internal Server Error: <path>" with the summary above.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from ketaclinic.audit import context

MAX_FRAMES = 40
MAX_CHAIN = 8
HEADER = "Traceback (most recent call last; messages withheld, they may hold patient data):"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _class_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _request_id() -> str:
    current = context.current()
    return current.request_id if current is not None else "-"


def exception_summary(exc: BaseException, tb: TracebackType | None) -> str:
    """Where ``exc`` was raised and what it was (classes only), with the request id."""
    lines = [HEADER]
    for frame in traceback.extract_tb(tb)[-MAX_FRAMES:]:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    chain = [_class_name(exc)]
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen and len(chain) < MAX_CHAIN:
        chain.append(_class_name(cause))
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    lines.append(" <- raised from ".join(chain) + f" (request {_request_id()})")
    return "\n".join(lines)


def _safe_argument(value: Any) -> Any:
    return _class_name(value) if isinstance(value, BaseException) else value


def record_redact(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with no exception message left in it (module docstring)."""
    if isinstance(record.msg, BaseException):
        record.msg = _class_name(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_safe_argument(arg) for arg in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {key: _safe_argument(arg) for key, arg in record.args.items()}
    exc_info = record.exc_info
    if exc_info and exc_info[1] is not None:
        record.exc_text = exception_summary(exc_info[1], exc_info[2])
        record.exc_info = None
    return record


_installed: list[Callable[..., logging.LogRecord]] = []


def install() -> None:
    """Make every log record of this process through ``record_redact`` (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return record_redact(previous(*args, **kwargs))

    _installed.append(factory)
    logging.setLogRecordFactory(factory)
