"""What a FHIR request asks to do, from its method and path under the base. Pure.

Every endpoint under ``/fhir/R4/`` is mapped here, so a scope check needs nothing from the
view: a new resource type or a versioned read is covered by its path alone. A path this
module does not know (an operation such as ``$export`` polling, a new kind of URL) is
``UNKNOWN``, and a SMART token is refused there until it is mapped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ketaclinic.fhir.smart.rules.scopes import Interaction

Kind = Literal["open", "resource", "export", "export-status", "transaction", "unknown"]


@dataclass(frozen=True)
class Asked:
    kind: Kind
    type_name: str | None = None
    interaction: Interaction | None = None


OPEN = Asked("open")  # the CapabilityStatement: no patient data
UNKNOWN = Asked("unknown")


def _is_type(segment: str) -> bool:
    return segment[:1].isupper() and segment.isalpha()


def request_asks(method: str, path: str) -> Asked:
    """``path`` is the part after the FHIR base (``Observation/abc``, ``metadata``)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if parts == [] and method == "POST":
        # A transaction Bundle: each entry is checked against the scopes (fhir/importing/).
        return Asked("transaction", None, "create")
    if parts in ([], ["metadata"]):
        return OPEN if method in ("GET", "HEAD") else UNKNOWN
    if parts[0] in ("$export-poll", "$export-file"):
        # A Bulk Data export's status and files: only the program that started it (bulk/access.py).
        return Asked("export-status")
    if parts == ["$export"] or (len(parts) >= 2 and parts[-1] == "$export"):
        type_name = parts[0] if _is_type(parts[0]) else None
        return Asked("export", type_name, "search")
    if not _is_type(parts[0]):
        return UNKNOWN
    type_name = parts[0]
    rest = parts[1:]
    match (method, rest):
        case ("GET" | "HEAD", []):
            return Asked("resource", type_name, "search")
        case ("POST", []):
            return Asked("resource", type_name, "create")
        case ("POST", ["_search"]):
            return Asked("resource", type_name, "search")
        case ("GET" | "HEAD", [_]) | ("GET" | "HEAD", [_, "_history", *_]):
            return Asked("resource", type_name, "read")
        case ("GET" | "HEAD", [_, "$everything"]):
            # Each entry of the answer is checked again (the Bundle writer): other types
            # are dropped unless the grant reads them too.
            return Asked("resource", type_name, "read")
        case ("PUT" | "PATCH", [_]):
            return Asked("resource", type_name, "update")
        case ("DELETE", [_]):
            return Asked("resource", type_name, "delete")
    return UNKNOWN
