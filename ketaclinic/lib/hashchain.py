"""Canonical JSON and SHA-256 hash chains.

Used wherever a record must prove it was not changed afterwards: the audit trail, the ketamine
ledger and signed clinical documents. Pure functions, no Django import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64
"""The predecessor hash of the first entry of a chain."""


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} into canonical JSON")


def canonical_json(payload: Mapping[str, Any] | list[Any]) -> str:
    """Serialise with sorted keys, no insignificant white space and UTF-8 text.

    Datetimes, dates, decimals and UUIDs become their ISO or string forms, so the same
    record always gives the same text, whatever dict order it was built in.
    """
    return _CANONICAL.encode(payload)


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
)
"""Made once: `json.dumps` with these arguments makes the same encoder on every call (the
audit chain hashes a payload per event; the monitor feed's batch, hundreds at a time)."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    """One chain entry's hash: SHA-256 over the predecessor's hash and the canonical payload."""
    return sha256_hex(prev_hash + "\n" + canonical_json(payload))


def chain_text_before(payload: Mapping[str, Any], last_key: str) -> str:
    """The canonical JSON of `payload` with `last_key` added, cut just before that key's value.

    For a key that sorts after every key of `payload` and an integer value n,
    `chain_hash(prev, {**payload, last_key: n})` is the SHA-256 of
    `prev + "\n" + chain_text_before(payload, last_key) + str(n) + "}"`: so the database can
    finish the hash once it knows n (the audit chain's next position, under its lock).
    """
    if any(key >= last_key for key in payload):
        raise ValueError(f"{last_key!r} must sort after every other key")
    body = canonical_json(payload)[:-1]
    return body + ("," if payload else "") + json.dumps(last_key) + ":"


def digest(payload: Mapping[str, Any] | list[Any]) -> str:
    """SHA-256 of a canonical snapshot (signed records)."""
    return sha256_hex(canonical_json(payload))
