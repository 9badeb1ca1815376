"""Reserving a key, storing the answer, releasing the key: the store behind ``api.py``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.idempotency.models import IdempotentRequest

RETENTION = timedelta(hours=24)
"""How long an answer is kept for replay. A client retries within seconds or minutes (a tablet
that lost its network for a shift retries the same day); after this the key may be reused."""

KEY_MAX_LENGTH = 100
_KEY = re.compile(rf"[!-~]{{1,{KEY_MAX_LENGTH}}}")  # visible ASCII


@dataclass(frozen=True, slots=True)
class Reserved:
    """The key is new: the write runs, and its answer is stored (or the key released)."""

    record: IdempotentRequest


@dataclass(frozen=True, slots=True)
class Replay:
    """The same request was answered before under this key: answer as then."""

    record: IdempotentRequest


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used before for a different request (another body, path or method)."""


@dataclass(frozen=True, slots=True)
class InProgress:
    """The key's first request has not finished (seen only where rows are not locked)."""


Reservation = Reserved | Replay | Mismatch | InProgress


def idempotency_key_valid(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


def idempotency_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 of the method, the path (with its query string) and the body's bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "surrogateescape"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _insert(user: Any, key: str, fingerprint: str) -> IdempotentRequest | None:
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        return None


def idempotency_reserve(*, user: Any, key: str, fingerprint: str) -> Reservation:
    """Reserve ``key`` for ``user``'s request, or say how it was answered before.

    Call it inside the transaction that runs the write: the reservation commits with the
    write's rows or not at all. A concurrent request with the same key waits here until the
    first one's transaction ends (PostgreSQL: the insert blocks on the unique index; SQLite:
    the transaction waited for the write lock at BEGIN), then replays its answer."""
    for _ in range(2):
        record = _insert(user, key, fingerprint)
        if record is not None:
            return Reserved(record)
        earlier = IdempotentRequest.objects.filter(user=user, key=key).first()
        if earlier is None:  # released between our insert and our read: try again
            continue
        if earlier.created_at < timezone.now() - RETENTION:
            earlier.delete()
            continue
        if earlier.fingerprint != fingerprint:
            return Mismatch()
        if earlier.status == 0:
            return InProgress()
        return Replay(earlier)
    return InProgress()


def idempotency_store(
    record: IdempotentRequest, *, status: int, content_type: str, body: bytes, location: str = ""
) -> None:
    """Keep the answer of a reserved request (in the same transaction), and forget this user's
    answers older than ``RETENTION``."""
    record.status = status
    record.content_type = content_type[:100]
    record.body = body
    record.location = location[:500]
    record.save(update_fields=["status", "content_type", "body", "location"])
    IdempotentRequest.objects.filter(
        user_id=record.user_id, created_at__lt=timezone.now() - RETENTION
    ).delete()


def idempotency_release(record: IdempotentRequest) -> None:
    """Forget a reservation whose request was refused (4xx): a retry runs it again."""
    record.delete()
