"""Search results as a searchset Bundle, spliced from stored JSON text (no re-serialising)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from django.utils import timezone


def searchset(self_url: str, entries: Sequence[tuple[str, str]]) -> str:
    """``entries`` are (fullUrl, resource JSON text); the texts are inserted as they are."""
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": timezone.now().isoformat()},
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": self_url}],
    }
    parts = [
        '{"fullUrl":' + json.dumps(full_url) + ',"resource":' + text + ',"search":{"mode":"match"}}'
        for full_url, text in entries
    ]
    text = json.dumps(head, separators=(",", ":"))
    if not parts:
        return text  # FHIR JSON has no empty arrays
    return text[:-1] + ',"entry":[' + ",".join(parts) + "]}"
