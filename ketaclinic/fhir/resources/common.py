"""Helpers every resource module uses: validation with fhir.resources, ids, filters."""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from pydantic import ValidationError

from ketaclinic.fhir.search.engine import LAST_UPDATED, Built
from ketaclinic.fhir.search.params import reference, token

Filter = Callable[[QuerySet[Any], str], QuerySet[Any]]


class BuiltInvalid(Exception):
    """A resource we built does not validate: a bug, never served."""


def validated(model: Any, resource: dict[str, Any]) -> str:
    """The resource's JSON text, after the R4B model accepts it (fhir.resources)."""
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        raise BuiltInvalid(f"{resource.get('resourceType')}/{resource.get('id')}: {exc}") from exc
    return json.dumps(resource, separators=(",", ":"))


def uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def int_id(prefix: str) -> Callable[[str], int | None]:
    """``prefix-123`` -> 123 (ids of rows with integer keys: ``chair-3``)."""

    def parse(raw: str) -> int | None:
        number = raw.removeprefix(prefix)
        return int(number) if raw.startswith(prefix) and number.isdigit() else None

    return parse


def pk_lookup(parse: Callable[[str], Any]) -> Callable[[str], Q | None]:
    """Find a row by its primary key, parsed from the FHIR id."""

    def lookup(raw: str) -> Q | None:
        key = parse(raw)
        return None if key is None else Q(pk=key)

    return lookup


def id_filter(parse: Callable[[str], Any]) -> Filter:
    """``_id=a,b``: any of the ids (an id of another source matches nothing)."""

    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        keys = [k for k in (parse(part) for part in raw.split(",")) if k is not None]
        return rows.filter(pk__in=keys)

    return apply


def reference_filter(field: str, resource_type: str, parse: Callable[[str], Any]) -> Filter:
    """A reference parameter (``patient=Patient/<id>`` or ``patient=<id>``), any of a list."""

    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        keys = [parse(reference(part, resource_type)) for part in raw.split(",")]
        return rows.filter(**{f"{field}__in": [k for k in keys if k is not None]})

    return apply


def code_filter(mapping: dict[tuple[str, str], Q]) -> Filter:
    """A token over fixed codes: (system, code) -> the condition on the rows. ``code`` alone
    matches any system; a comma-separated list is any of its tokens."""

    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        matched = [
            condition
            for part in raw.split(",")
            for (system, code), condition in mapping.items()
            if code == token(part).code and token(part).system in (None, system)
        ]
        if not matched:
            return rows.none()
        return rows.filter(reduce(operator.or_, matched))

    return apply


def rows_built(
    model: Any, to_json: Callable[[Any], dict[str, Any]], id_prefix: str = ""
) -> Callable[[Sequence[Any]], list[Built]]:
    """A source's ``build`` for rows served under their own primary key (after ``id_prefix``):
    each row's resource (``to_json``) validated with ``model`` (fhir.resources), with its
    patient and lastUpdated."""

    def build(rows: Sequence[Any]) -> list[Built]:
        return [
            Built(
                f"{id_prefix}{r.pk}",
                validated(model, to_json(r)),
                r.patient_id,
                getattr(r, LAST_UPDATED),
            )
            for r in rows
        ]

    return build
