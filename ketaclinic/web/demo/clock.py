"""A settable clock for building the demo's past: the services read ``timezone.now()``, so the
history (months of scores, earlier infusions, the ledger's receipts and draws) is written in
time order, oldest first, as if it had happened then; the audit trail's and the ledger's times
follow their chains' order. Rows stamped by a model default (``recorded_at``) keep the moment
they were really typed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.utils import timezone


class DemoClock:
    def __init__(self) -> None:
        self.at: datetime | None = None

    def now(self) -> datetime:
        return self.at if self.at is not None else _real_now()

    def set(self, at: datetime) -> None:
        if self.at is not None and at < self.at:
            raise ValueError("the demo clock only moves forward")
        self.at = min(at, _real_now())


_real_now = timezone.now


@contextmanager
def demo_clock() -> Iterator[DemoClock]:
    clock = DemoClock()
    with mock.patch.object(timezone, "now", clock.now):
        yield clock
