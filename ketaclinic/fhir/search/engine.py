"""Running a search: sources, filters, keyset paging under a snapshot, counting, reading.

A ``Source`` is one table behind a resource type (Observation has the stored score rows and
one source per vital sign). Its queryset is already access-checked for the user. Rows are
ordered by (sort value, source index, primary key): a total order, so a page boundary is a
position, not an offset, and rows inserted while a client pages (after the snapshot) are never
counted nor shown; rows already there are neither repeated nor skipped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Expression, F, Model, Q, QuerySet
from django.utils import timezone

from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.search.cursor import Cursor, CursorInvalid, cursor_loads
from ketaclinic.fhir.search.params import (
    RESULT_PARAMS,
    DateRange,
    Handling,
    Kind,
    Parsed,
    date_range,
    result_params,
)

SORT = "_fhir_sort"
LAST_UPDATED = "_fhir_lu"

Filter = Callable[[QuerySet[Any], str], QuerySet[Any]]


@dataclass(frozen=True, slots=True)
class Built:
    """A resource ready to serve: its id, JSON text (no ``meta``), patient, lastUpdated."""

    resource_id: str
    text: str
    patient_id: Any
    last_updated: datetime | None  # None: a built-in definition, part of the software
    profile: str | None = None

    @property
    def version_id(self) -> str:
        """A version that changes whenever the resource's content does."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def served_text(self) -> str:
        """The JSON text with ``meta`` (versionId, lastUpdated, profile) spliced in first."""
        meta: dict[str, Any] = {"versionId": self.version_id}
        if self.last_updated is not None:
            meta["lastUpdated"] = self.last_updated.isoformat()
        if self.profile:
            meta["profile"] = [self.profile]
        if '"meta"' in self.text:
            # An imported definition may carry its own meta (profiles, tags): merge, do not
            # repeat the key. Rare (imports only), so parsing here costs nothing that matters.
            resource = json.loads(self.text)
            if isinstance(resource.get("meta"), dict):
                resource["meta"] = resource["meta"] | meta
                return json.dumps(resource, separators=(",", ":"))
        return '{"meta":' + json.dumps(meta, separators=(",", ":")) + "," + self.text.lstrip()[1:]


def date_filter(expression: str) -> Filter:
    """A date parameter over a (datetime) field or annotation: eq, gt, lt, ge, le."""

    def apply(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        value: DateRange = date_range(raw)
        match value.prefix:
            case "gt":
                return rows.filter(**{f"{expression}__gte": value.end})
            case "lt":
                return rows.filter(**{f"{expression}__lt": value.start})
            case "ge":
                return rows.filter(**{f"{expression}__gte": value.start})
            case "le":
                return rows.filter(**{f"{expression}__lt": value.end})
            case _:
                return rows.filter(
                    **{f"{expression}__gte": value.start, f"{expression}__lt": value.end}
                )

    return apply


@dataclass(frozen=True)
class Source:
    """One table behind a resource type."""

    rows: Callable[[Any], QuerySet[Any]]  # (user) -> the rows the user may see
    inserted: str  # the immutable insert time: the snapshot bound and the default sort
    last_updated: Expression | F  # meta.lastUpdated and _lastUpdated
    dates: Expression | F | None  # the clinical date of ``date`` and ``_sort=date``
    filters: dict[str, Filter]  # parameter name -> filter (a name absent here matches nothing)
    build: Callable[[Sequence[Any]], list[Built]]  # rows annotated with LAST_UPDATED -> Built
    lookup: Callable[[str], Q | None]  # a FHIR id -> the condition finding it here, or None
    prefetch: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchParam:
    name: str
    kind: Kind
    documentation: str


@dataclass(frozen=True)
class ResourceType:
    name: str
    sources: tuple[Source, ...]
    params: tuple[SearchParam, ...]
    audit_type: str | None  # the audit's object type; None: not patient data
    patient_params: tuple[str, ...] = ()  # reference parameters naming a patient
    requires_patient: bool = False
    sortable: tuple[str, ...] = ("_lastUpdated", "date")
    documentation: str = ""


@dataclass
class Page:
    entries: list[Built]
    total: int
    parsed: Parsed
    next_cursor: str | None = None
    previous_cursor: str | None = None


def parse(
    resource_type: ResourceType, values: dict[str, list[str]], handling: Handling
) -> tuple[Parsed, Cursor | None]:
    """Split the query into filters, result parameters, ignored and wrong ones."""
    parsed = Parsed()
    known = {p.name for p in resource_type.params}
    for name, raw_values in values.items():
        base = name.split(":", 1)[0]
        if base in RESULT_PARAMS:
            continue
        if base not in known:
            parsed.ignored.append(
                Issue(
                    "not-supported",
                    f"the search parameter {name!r} is not supported by {resource_type.name} "
                    "and was ignored",
                    name,
                    severity="warning",
                )
            )
            continue
        if ":" in name:
            parsed.ignored.append(
                Issue(
                    "not-supported",
                    f"the modifier in {name!r} is not supported; the parameter was ignored",
                    name,
                    severity="warning",
                )
            )
            continue
        parsed.filters[name] = [v for v in raw_values if v != ""]
    sortable = resource_type.sortable
    parsed.result = result_params(values, sortable, parsed)
    if handling == Handling.STRICT:
        for ignored in parsed.ignored:
            refused = ignored.diagnostics.replace("and was ignored", "(Prefer: handling=strict)")
            parsed.errors.append(Issue(ignored.code, refused, ignored.expression))
    cursor = None
    raw_cursor = values.get("_cursor", [])
    if raw_cursor:
        try:
            cursor = cursor_loads(raw_cursor[-1], resource_type.name)
        except CursorInvalid as exc:
            parsed.errors.append(Issue("invalid", str(exc), "_cursor"))
    if parsed.errors:
        raise FhirProblem(400, parsed.errors)
    return parsed, cursor


def _filtered(source: Source, user: Any, parsed: Parsed) -> QuerySet[Any]:
    rows: QuerySet[Any] = source.rows(user).annotate(**{LAST_UPDATED: source.last_updated})
    problems: list[Issue] = []
    for name, raw_values in parsed.filters.items():
        apply = source.filters.get(name)
        if apply is None:
            return rows.none()
        for raw in raw_values:
            try:
                rows = apply(rows, raw)
            except ValueError as exc:
                problems.append(Issue("value", f"{name}: {exc}", name))
    if problems:
        raise FhirProblem(400, problems)
    return rows


def _sort_expression(source: Source, sort: tuple[str, bool] | None) -> Expression | F:
    if sort is None:
        return F(source.inserted)
    if sort[0] == "_lastUpdated":
        return source.last_updated
    assert source.dates is not None  # sortable lists ``date`` only where every source has it
    return source.dates


def _after(
    rows: QuerySet[Any], index: int, position: tuple[Any, int, Any], later: bool
) -> QuerySet[Any]:
    """The rows strictly after (``later``) or before ``position`` in (sort, source, pk)."""
    value, source, pk = position
    strictly, inclusive = ("gt", "gte") if later else ("lt", "lte")
    if index != source:
        # Ties on the sort value go by source index: a source ordered before the position's
        # has its ties behind the position (going later), one ordered after has them ahead.
        tie_is_behind = (index < source) == later
        return rows.filter(**{f"{SORT}__{strictly if tie_is_behind else inclusive}": value})
    return rows.filter(
        Q(**{f"{SORT}__{strictly}": value}) | Q(**{SORT: value, f"pk__{strictly}": pk})
    )


def search(
    resource_type: ResourceType,
    user: Any,
    parsed: Parsed,
    cursor: Cursor | None,
    snapshot: datetime | None = None,  # a first page under an earlier snapshot ($everything)
) -> Page:
    result = parsed.result
    snapshot = cursor.snapshot if cursor else (snapshot or timezone.now())
    descending = bool(result.sort and result.sort[1])
    querysets = []
    for source in resource_type.sources:
        rows = _filtered(source, user, parsed).filter(**{f"{source.inserted}__lte": snapshot})
        querysets.append(rows.annotate(**{SORT: _sort_expression(source, result.sort)}))
    total = sum(rows.count() for rows in querysets)
    page = Page([], total, parsed)
    if result.summary_count or result.count == 0:
        return page
    position = None
    if cursor is not None:
        if cursor.source >= len(querysets):
            raise FhirProblem(400, [Issue("invalid", "this paging link is not valid", "_cursor")])
        edge_source = resource_type.sources[cursor.source]
        edge = querysets[cursor.source].model.objects.filter(pk=cursor.pk)
        value = (
            edge.annotate(**{SORT: _sort_expression(edge_source, result.sort)})
            .values_list(SORT, flat=True)
            .first()
        )
        if value is None:
            raise FhirProblem(
                400, [Issue("invalid", "this paging link's position is gone", "_cursor")]
            )
        model = querysets[cursor.source].model
        position = (value, cursor.source, model._meta.pk.to_python(cursor.pk))
    backward = bool(cursor and cursor.backward)
    later = descending == backward  # ascending and forward, or descending and backward
    candidates: list[tuple[Any, int, Any, Model]] = []
    for index, rows in enumerate(querysets):
        if position is not None:
            rows = _after(rows, index, position, later)
        order = [SORT, "pk"] if later else [f"-{SORT}", "-pk"]
        source = resource_type.sources[index]
        taken = rows.order_by(*order)
        if source.prefetch:
            taken = taken.select_related(*source.prefetch)
        candidates.extend((getattr(r, SORT), index, r.pk, r) for r in taken[: result.count + 1])
    candidates.sort(key=lambda c: (c[0], c[1], c[2]), reverse=not later)
    more = len(candidates) > result.count
    shown = candidates[: result.count]
    if backward:
        shown.reverse()
    by_source: dict[int, list[Model]] = {}
    for _, index, _, row in shown:
        by_source.setdefault(index, []).append(row)
    built: dict[tuple[int, Any], Built] = {}
    for index, rows_of_source in by_source.items():
        for row, item in zip(
            rows_of_source, resource_type.sources[index].build(rows_of_source), strict=True
        ):
            built[(index, row.pk)] = item
    page.entries = [built[(index, pk)] for _, index, pk, _ in shown]
    if shown:
        first, last = shown[0], shown[-1]

        def link(edge: tuple[Any, int, Any, Model], back: bool) -> str:
            return Cursor(resource_type.name, snapshot, edge[1], str(edge[2]), back).dumps()

        if (more and not backward) or (backward and position is not None):
            page.next_cursor = link(last, False)
        if (more and backward) or (not backward and position is not None):
            page.previous_cursor = link(first, True)
    return page


def read(resource_type: ResourceType, user: Any, resource_id: str) -> Built:
    """One resource by id, access-checked; 404 when absent or not the user's to see."""
    for source in resource_type.sources:
        condition = source.lookup(resource_id)
        if condition is None:
            continue
        rows = source.rows(user).annotate(**{LAST_UPDATED: source.last_updated})
        if source.prefetch:
            rows = rows.select_related(*source.prefetch)
        row = rows.filter(condition).first()
        if row is None:
            continue
        built = source.build([row])
        if built and built[0].resource_id == resource_id:
            return built[0]
    raise FhirProblem(404, [Issue("not-found", f"{resource_type.name}/{resource_id} is not known")])


def list_search(
    resource_type: ResourceType, items: Sequence[Built], parsed: Parsed, cursor: Cursor | None
) -> Page:
    """A page of a short list already in its one stable order (built-in definitions first,
    then the imported ones by insert time: new ones only ever go at the end). The cursor's
    position is the id of the edge entry, found again in the list."""
    page = Page([], len(items), parsed)
    count = parsed.result.count
    if parsed.result.summary_count or count == 0:
        return page
    ids = [item.resource_id for item in items]
    start = 0
    if cursor is not None:
        if cursor.pk not in ids:
            raise FhirProblem(
                400, [Issue("invalid", "this paging link's position is gone", "_cursor")]
            )
        at = ids.index(cursor.pk)
        start = max(at - count, 0) if cursor.backward else at + 1
        end = at if cursor.backward else at + 1 + count
    else:
        end = count
    page.entries = list(items[start:end])
    snapshot = cursor.snapshot if cursor else timezone.now()
    if page.entries and end < len(items):
        edge = ids[end - 1]
        page.next_cursor = Cursor(resource_type.name, snapshot, 0, edge, False).dumps()
    if page.entries and start > 0:
        page.previous_cursor = Cursor(resource_type.name, snapshot, 0, ids[start], True).dumps()
    return page
