"""``_elements`` of a Bulk Data export (IG v2.0.0, experimental): each resource of a type
carries only the elements asked for, plus ``resourceType``, ``id``, ``meta`` and the elements
FHIR requires of the type (so that every line still validates), and is tagged SUBSETTED in
``meta.tag`` (FHIR R4 search.html#elements: "servers SHOULD mark the resources with the tag
SUBSETTED", system http://terminology.hl7.org/CodeSystem/v3-ObservationValue)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
_ALWAYS = frozenset({"resourceType", "id", "meta"})


@cache
def required_elements(type_name: str) -> frozenset[str]:
    """The top-level elements R4 requires of the type (minimum cardinality 1), as
    fhir.resources' R4B model marks them (required, or ``element_required`` for primitives)."""
    model: Any = get_fhir_model_class(type_name)
    found = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if info.is_required() or extra.get("element_required"):
            found.add(info.alias or name)
    return frozenset(found)


def _base(name: str) -> str:
    return name.removesuffix("[x]")


def elements_subset(type_name: str, elements: dict[str, list[str]]) -> Callable[[str], str] | None:
    """The function that subsets one resource's JSON text of ``type_name``, or None when the
    export keeps whole resources of it (no ``_elements`` for it, nor for every type)."""
    asked = [*elements.get("*", []), *elements.get(type_name, [])]
    if not asked:
        return None
    keep = _ALWAYS | required_elements(type_name)
    choices = tuple(_base(n) for n in asked if n.endswith("[x]"))
    plain = frozenset(asked)

    def kept(key: str) -> bool:
        # a choice element (``value[x]``) is sent as valueQuantity, valueString, ...
        return key in keep or key in plain or (bool(choices) and key.startswith(choices))

    def subset(text: str) -> str:
        resource: dict[str, Any] = json.loads(text)
        out = {k: v for k, v in resource.items() if kept(k)}
        meta = dict(out.get("meta") or {})
        meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
        out["meta"] = meta
        return json.dumps(out, separators=(",", ":"))

    return subset
