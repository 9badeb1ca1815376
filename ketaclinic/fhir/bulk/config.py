"""The export's knobs, from settings (``KETACLINIC_BULK_*`` in the environment, settings.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings


def export_dir() -> Path:
    return Path(getattr(settings, "FHIR_BULK_DIR", Path(settings.VAR_DIR) / "bulk"))


def expires_after() -> timedelta:
    """How long a completed export's files are kept (default 24 hours)."""
    return timedelta(seconds=int(getattr(settings, "FHIR_BULK_EXPIRES_SECONDS", 86_400)))


def retry_after() -> int:
    """Seconds a client waits between status polls (Retry-After); faster polls get 429."""
    return int(getattr(settings, "FHIR_BULK_RETRY_AFTER", 5))


def stale_after() -> timedelta:
    """A running export whose job has not written for this long is taken as stopped (its
    worker died) and is run again, or failed after ``max_attempts``."""
    return timedelta(seconds=int(getattr(settings, "FHIR_BULK_STALE_SECONDS", 120)))


def max_attempts() -> int:
    return int(getattr(settings, "FHIR_BULK_MAX_ATTEMPTS", 3))


def chunk_size() -> int:
    """Rows read (server-side cursor) and built per step; progress is saved each step."""
    return int(getattr(settings, "FHIR_BULK_CHUNK", 2000))


def file_lines() -> int:
    """Resources per NDJSON file before the next file of the type starts."""
    return int(getattr(settings, "FHIR_BULK_FILE_LINES", 250_000))
