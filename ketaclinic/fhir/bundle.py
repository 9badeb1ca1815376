"""Search results as a searchset Bundle, spliced from JSON text (no re-serialising).

``total`` is always given; ``link`` has ``self`` (the parameters applied) and, when there are
more pages, ``next`` and ``previous``; parameters that were ignored are named in an
OperationOutcome entry (``search.mode`` = ``outcome``), as FHIR R4 search (3.1.1.4) asks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from django.utils import timezone

from ketaclinic.fhir.outcome import Issue, operation_outcome_json
from ketaclinic.fhir.smart.access import entry_permitted


def searchset(
    self_url: str,
    entries: Sequence[tuple[str, str]],
    *,
    total: int | None = None,
    links: Sequence[tuple[str, str]] = (),
    ignored: Sequence[Issue] = (),
    included: Sequence[tuple[str, str]] = (),
) -> str:
    """``entries`` are (fullUrl, resource JSON text); the texts are inserted as they are.
    ``included`` (same shape) are added by ``_include``/``_revinclude`` (search.mode include)."""
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": timezone.now().isoformat()},
        "type": "searchset",
        "total": len(entries) if total is None else total,
        "link": [{"relation": "self", "url": self_url}]
        + [{"relation": relation, "url": url} for relation, url in links],
    }
    parts = [
        '{"fullUrl":' + json.dumps(full_url) + ',"resource":' + text + ',"search":{"mode":"match"}}'
        for full_url, text in entries
        if entry_permitted(full_url, text)  # a SMART token's scopes, per entry (fhir/smart/)
    ]
    parts += [
        '{"fullUrl":' + json.dumps(full_url) + ',"resource":' + text
        + ',"search":{"mode":"include"}}'
        for full_url, text in included
        if entry_permitted(full_url, text)
    ]  # fmt: skip
    if ignored:
        outcome = json.dumps(operation_outcome_json(list(ignored)), separators=(",", ":"))
        parts.append(
            '{"fullUrl":' + json.dumps(f"urn:uuid:{uuid.uuid4()}") + ',"resource":' + outcome
            + ',"search":{"mode":"outcome"}}'
        )  # fmt: skip
    text = json.dumps(head, separators=(",", ":"))
    if not parts:
        return text  # FHIR JSON has no empty arrays
    return text[:-1] + ',"entry":[' + ",".join(parts) + "]}"
