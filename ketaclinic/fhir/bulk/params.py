"""The kick-off's parameters (Bulk Data Access IG v2.0.0 ``export.html``, with v3's
``_until``; ../shared/domain/interop.md, section 5): ``_outputFormat``, ``_type``, ``_since``,
``_until``, ``_typeFilter``. Anything else is refused with an OperationOutcome, or ignored
under ``Prefer: handling=lenient`` (as the IG says)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs

from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.search import engine
from ketaclinic.fhir.search.params import RESULT_PARAMS, Handling

# The IG: a server SHALL accept these three spellings of NDJSON.
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
KNOWN = (
    "_outputFormat",
    "_type",
    "_since",
    "_until",
    "_typeFilter",
    "_elements",
    "patient",
    "includeAssociatedData",
)
# includeAssociatedData (IG v2): the values this server honours. Our Provenance is one per
# signed record (resources/provenance.py), so the latest is the only one: both add the
# Provenance of the exported patients' records. Other values (``_custom``) are refused with an
# OperationOutcome, or ignored under Prefer: handling=lenient, as for any unsupported parameter.
ASSOCIATED = ("LatestProvenanceResources", "RelevantProvenanceResources")
# _elements: a FHIR element name, alone or after its type (``Observation.status``).
_ELEMENT = re.compile(r"^(?:([A-Z][A-Za-z]+)\.)?([a-z][A-Za-z0-9]*(?:\[x\])?)$")
# v2 joins several filters with commas, v3 repeats the parameter: a comma starts a new filter
# only where a type name and ``?`` follow (a comma inside a filter is an OR of values).
_NEXT_FILTER = re.compile(r",(?=[A-Z][A-Za-z]+\?)")
# Search-result parameters are banned inside _typeFilter (IG v3, export.md).
_BANNED_IN_FILTER = (*RESULT_PARAMS, "_include", "_revinclude", "_elements", "_contained")


def exportable_types() -> list[str]:
    """Every resource type of the search layer (registry.TYPES), in its order."""
    return list(TYPES)


def compartment_types() -> list[str]:
    """The types of the Patient compartment: Patient and those searched by patient."""
    return [name for name, kind in TYPES.items() if name == "Patient" or kind.patient_params]


@dataclass
class KickOff:
    types: list[str]
    since: datetime | None = None
    until: datetime | None = None
    type_filters: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    grant_scope: str = ""  # a SMART program's scopes, applied by the job
    patients: list[str] = field(default_factory=list)  # ``patient`` (POST): Patient references
    elements: dict[str, list[str]] = field(default_factory=dict)  # type or "*" -> elements


def _instant(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise FhirProblem(
            400, [Issue("value", f"{name} is a FHIR instant (e.g. 2026-01-05T09:30:00Z)", name)]
        ) from None
    if value.tzinfo is None:
        raise FhirProblem(400, [Issue("value", f"{name} needs a time zone (Z or +hh:mm)", name)])
    return value


def _type_filter(raw: str, allowed: list[str]) -> tuple[str, str]:
    type_name, _, query = raw.partition("?")
    if type_name not in TYPES or type_name not in allowed:
        raise FhirProblem(
            400,
            [
                Issue(
                    "not-supported", f"_typeFilter names {type_name!r}, not exported", "_typeFilter"
                )
            ],
        )
    values = parse_qs(query, keep_blank_values=True)
    banned = [n for n in values if n.split(":", 1)[0] in _BANNED_IN_FILTER]
    if banned or not values:
        raise FhirProblem(
            400,
            [
                Issue(
                    "invalid",
                    "a _typeFilter is Type?search with the type's search parameters "
                    "(no result parameters such as _count, _sort, _include)",
                    "_typeFilter",
                )
            ],
        )
    # Strict: a filter that cannot be applied must not widen the export.
    engine.parse(TYPES[type_name], values, Handling.STRICT)
    return type_name, query


def _elements(raw_values: list[str], types: list[str]) -> dict[str, list[str]]:
    """``_elements`` (IG: experimental): ``element`` for every type, ``Type.element`` for one;
    kept per type (``*``: every type)."""
    found: dict[str, list[str]] = {}
    for raw in (p.strip() for value in raw_values for p in value.split(",")):
        if not raw:
            continue
        match = _ELEMENT.match(raw)
        if match is None or (match.group(1) is not None and match.group(1) not in TYPES):
            raise FhirProblem(
                400,
                [Issue("value", f"_elements: {raw!r} is not [Type.]element", "_elements")],
            )
        type_name = match.group(1) or "*"
        if type_name != "*" and type_name not in types:
            continue  # a type not exported: nothing to subset
        found.setdefault(type_name, []).append(match.group(2))
    return found


def kick_off_params(values: dict[str, list[str]], *, kind: str, handling: Handling) -> KickOff:
    """The parsed kick-off, or FhirProblem(400) naming what is wrong."""
    problems: list[Issue] = []
    ignored = []
    for name in values:
        if name not in KNOWN:
            if handling == Handling.LENIENT:
                ignored.append(name)
            else:
                problems.append(
                    Issue("not-supported", f"the export parameter {name!r} is not supported", name)
                )
    for name in ("_outputFormat", "_since", "_until"):
        if len(values.get(name, [])) > 1:
            problems.append(Issue("invalid", f"{name} is given twice", name))
    formats = values.get("_outputFormat", [])
    if formats and formats[-1] not in OUTPUT_FORMATS:
        problems.append(
            Issue(
                "not-supported",
                "_outputFormat must be application/fhir+ndjson (or application/ndjson, ndjson)",
                "_outputFormat",
            )
        )
    if values.get("patient") and kind == "system":
        problems.append(
            Issue("not-supported", "patient is for Patient and Group exports only", "patient")
        )
    associated = [v for raw in values.get("includeAssociatedData", []) for v in raw.split(",")]
    unsupported = [v for v in associated if v not in ASSOCIATED]
    if unsupported and handling != Handling.LENIENT:
        problems.append(
            Issue(
                "not-supported",
                f"includeAssociatedData {', '.join(unsupported)} is not supported (supported: "
                f"{', '.join(ASSOCIATED)})",
                "includeAssociatedData",
            )
        )
    if problems:
        raise FhirProblem(400, problems)
    allowed = compartment_types() if kind != "system" else exportable_types()
    wanted = [t for raw in values.get("_type", []) for t in raw.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in allowed]
    if unknown:
        where = "in the Patient compartment" if kind != "system" else "exportable"
        raise FhirProblem(
            400,
            [Issue("not-supported", f"resource types not {where}: {', '.join(unknown)}", "_type")],
        )
    types = [t for t in allowed if t in wanted] if wanted else allowed
    if wanted and any(v in ASSOCIATED for v in associated) and "Provenance" not in types:
        types.append("Provenance")  # the associated data asked for, beside the types named
    result = KickOff(types=types, ignored=ignored)
    result.patients = [r for raw in values.get("patient", []) for r in raw.split(",") if r]
    result.elements = _elements(values.get("_elements", []), types)
    if values.get("_since"):
        result.since = _instant("_since", values["_since"][-1])
    if values.get("_until"):
        result.until = _instant("_until", values["_until"][-1])
    if result.since and result.until and result.until <= result.since:
        raise FhirProblem(400, [Issue("value", "_until must be after _since", "_until")])
    filters = [f for raw in values.get("_typeFilter", []) for f in _NEXT_FILTER.split(raw)]
    for raw in filters:
        type_name, query = _type_filter(raw, types)
        result.type_filters.setdefault(type_name, []).append(query)
    return result
