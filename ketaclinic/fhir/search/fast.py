"""The common Observation search in one statement: ``Observation?patient=<id>`` with
``_count``, ``_sort`` (none, ``date``, ``_lastUpdated``, either way), paging cursors and
``_summary=count``, on PostgreSQL.

The general engine (``engine.search``) runs five querysets (the stored scores and one per vital
sign), each access-checked and counted, merges them in Python, builds every vital sign from its
row and validates it with fhir.resources. Here one hand-written statement returns the page in
the engine's own order (sort value, source index, primary key), the total under the snapshot,
and each entry's text: a score's as stored when it was written (validated then), a vital sign's
from ``fhir.VitalsText`` when its stamp still matches the reading (``STAMP_SQL``). A vital sign
whose text is missing or stale is built and validated by the general builder and stored. The
answer is the engine's ``Page``, so the Bundle, the audit and ``_include`` are written as for any
search; ``tests/test_fast_search.py`` compares the two over many queries, byte for byte.

The caller has already checked that the user may see the patient (``_patients_named``): every
row of one patient is then visible (``patients_visible_to`` is per patient). Anything else
(another filter, several patients, a cursor whose position is gone, SQLite) goes to the engine.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ketaclinic.courses.models import Course
from ketaclinic.fhir.models import StoredResource, VitalsText
from ketaclinic.fhir.resources.vitals import MEASURES, PROFILE, READING_LAST_UPDATED, vitals_id
from ketaclinic.fhir.search.cursor import Cursor
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Page, ResourceType
from ketaclinic.fhir.search.params import Parsed, reference
from ketaclinic.infusions.models import Session, VitalsReading

# The modules whose code decides a vital sign's text: any change to them is a new builder,
# and every stored text is built again (the fingerprint is part of each stamp).
_BUILDER_MODULES = (
    "ketaclinic.fhir.resources.vitals",
    "ketaclinic.fhir.resources.common",
    "ketaclinic.fhir.resources.practitioner",
    "ketaclinic.fhir.observation",
    "ketaclinic.fhir.scoring_plan",
    "ketaclinic.fhir.search.fast",
)


@functools.cache
def builder_fingerprint() -> str:
    """A digest of the vital-sign builder's code and of fhir.resources' version."""
    import fhir.resources

    digest = hashlib.sha256(str(getattr(fhir.resources, "__version__", "")).encode())
    for name in _BUILDER_MODULES:
        source = import_module(name).__file__
        if source is not None:
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:16]


def _tables() -> dict[str, str]:
    return {
        "stored": StoredResource._meta.db_table,
        "reading": VitalsReading._meta.db_table,
        "session": Session._meta.db_table,
        "course": Course._meta.db_table,
        "text": VitalsText._meta.db_table,
    }


def stamp_sql(reading: str, course: str, placeholder: str = "%s") -> str:
    """The stamp of a reading as it is now: the builder's fingerprint, the reading's whole row
    (every column, present and future) and its patient. ``reading`` and ``course`` are the
    aliases of the two tables in the statement."""
    return f"md5({placeholder} || {reading}::text || '|' || {course}.patient_id::text)"


# (sort name or None) -> (the score's sort expression, the reading's): the engine's
# ``_sort_expression`` of each source (stored.py, vitals.py), written for PostgreSQL.
_READING_LU = (
    "GREATEST(r.recorded_at, COALESCE(r.confirmed_at, r.recorded_at), "
    "COALESCE(r.artefact_at, r.recorded_at))"
)
_SORTS: dict[str | None, tuple[str, str]] = {
    None: ("s.created_at", "r.recorded_at"),
    "date": ("s.effective", "r.at"),
    "_lastUpdated": ("s.created_at", _READING_LU),
}
_FIELDS = {index + 1: m.field for index, m in enumerate(MEASURES)}
_KEYS = {index + 1: m.key for index, m in enumerate(MEASURES)}


@functools.lru_cache(maxsize=32)
def _statement(sort: str | None, later: bool, edge_source: int | None) -> str:
    """The page (after the edge, when paging), its texts and the total, in one statement."""
    t = _tables()
    score_sort, reading_sort = _SORTS[sort]
    present = " ".join(f"WHEN {i} THEN r.{f}" for i, f in _FIELDS.items())
    keys = " ".join(f"WHEN {i} THEN '{k}'" for i, k in _KEYS.items())
    direction = "" if later else " DESC"
    order = f"sort{direction}, src{direction}, pk{direction}"
    after = ""
    edge = ""
    if edge_source is not None:
        # The engine looks the edge's sort value up again from its row (the cursor holds no
        # date); gone (or without one), the engine answers: the caller falls back to it.
        # Our own table and column names only; values are parameters.
        score_edge = f"SELECT {score_sort} FROM {t['stored']} s WHERE s.id = %(edge)s"  # noqa: S608
        reading_edge = f"SELECT {reading_sort} FROM {t['reading']} r WHERE r.id = %(edge)s"  # noqa: S608
        edge_sql = score_edge if edge_source == 0 else reading_edge
        edge = f", edge AS ({edge_sql})"
        compare = ">" if later else "<"
        edge_row = "((SELECT * FROM edge), %(edge_source)s, %(edge)s)"
        after = f" WHERE (sort, src, pk) {compare} {edge_row}"
    # Only our own table and column names are put into the text; values are parameters.
    return (
        "WITH keyed AS ("  # noqa: S608
        f"SELECT 0 AS src, s.id AS pk, {score_sort} AS sort FROM {t['stored']} s "
        "WHERE s.resource_type = 'Observation' AND s.patient_id = %(patient)s "
        "AND s.created_at <= %(snapshot)s "
        f"UNION ALL SELECT m.src, r.id, {reading_sort} FROM {t['reading']} r "
        f"JOIN {t['session']} se ON se.id = r.session_id "
        f"JOIN {t['course']} co ON co.id = se.course_id "
        "CROSS JOIN (VALUES (1), (2), (3), (4)) AS m (src) "
        "WHERE co.patient_id = %(patient)s AND r.recorded_at <= %(snapshot)s "
        f"AND (CASE m.src {present} END) IS NOT NULL)"
        f"{edge}, "
        f"page AS (SELECT src, pk, sort FROM keyed{after} ORDER BY {order} LIMIT %(limit)s) "
        "SELECT p.src, p.pk, p.sort, "
        "CASE WHEN p.src = 0 THEN s.created_at ELSE v.lu END, "
        "s.resource_id, COALESCE(s.json_text, v.json_text), total.n"
        + (", (SELECT * FROM edge)" if edge else ", NULL")
        + " FROM (SELECT count(*) AS n FROM keyed) total "  # noqa: S608  (our names only)
        # Each page row's texts by index look-ups: the reading in a LATERAL subquery (joined
        # plainly, PostgreSQL hashed the whole readings table for 20 rows).
        "LEFT JOIN (page p "
        f"LEFT JOIN {t['stored']} s ON s.id = (CASE WHEN p.src = 0 THEN p.pk END) "
        f"LEFT JOIN LATERAL (SELECT {_READING_LU} AS lu, x.json_text FROM {t['reading']} r "
        f"JOIN {t['session']} se ON se.id = r.session_id "
        f"JOIN {t['course']} co ON co.id = se.course_id "
        f"LEFT JOIN {t['text']} x ON x.reading_id = r.id "
        f"AND x.measure = (CASE p.src {keys} END) "
        f"AND x.stamp = {stamp_sql('r', 'co', '%(fingerprint)s')} "
        "WHERE p.src > 0 AND r.id = p.pk) v ON true"
        f") ON true ORDER BY p.sort{direction}, p.src{direction}, p.pk{direction}"
    )


def _single_patient(kind: ResourceType, parsed: Parsed) -> str | None:
    """The one patient id the search names, when patient/subject is its only filter."""
    given = [(name, values) for name, values in parsed.filters.items()]
    if len(given) != 1 or given[0][0] not in kind.patient_params or len(given[0][1]) != 1:
        return None
    raw = given[0][1][0]
    if "," in raw:
        return None
    try:
        return reference(raw, "Patient")
    except ValueError:
        return None


def applies(kind: ResourceType, parsed: Parsed) -> bool:
    """Whether this search is one the fast path answers (else: the engine)."""
    if kind.name != "Observation" or connection.vendor != "postgresql":
        return False
    sort = parsed.result.sort
    return (sort is None or sort[0] in ("date", "_lastUpdated")) and _single_patient(
        kind, parsed
    ) is not None


@dataclass(frozen=True, slots=True)
class _Row:
    source: int
    pk: int
    sort: datetime | None
    last_updated: datetime
    resource_id: str | None
    text: str | None


def search(kind: ResourceType, patient: UUID, parsed: Parsed, cursor: Cursor | None) -> Page | None:
    """The engine's page for this search (same entries, total and cursors), or None when the
    engine must answer (a cursor whose position is gone)."""
    result = parsed.result
    snapshot = cursor.snapshot if cursor else timezone.now()
    descending = bool(result.sort and result.sort[1])
    backward = bool(cursor and cursor.backward)
    later = descending == backward
    only_total = result.summary_count or result.count == 0
    edge_source: int | None = None
    params: dict[str, Any] = {
        "patient": patient,
        "snapshot": snapshot,
        "limit": 0 if only_total else result.count + 1,
    }
    if cursor is not None and not only_total:
        if not 0 <= cursor.source <= len(MEASURES) or not cursor.pk.isdigit():
            return None
        edge_source = cursor.source
        params |= {"edge": int(cursor.pk), "edge_source": edge_source}
    sql = _statement(result.sort[0] if result.sort else None, later, edge_source)
    params["fingerprint"] = builder_fingerprint()
    with connection.cursor() as db:
        db.execute(sql, params)
        fetched = db.fetchall()
    total = int(fetched[0][6])
    if edge_source is not None and fetched[0][7] is None:
        return None  # the position's row is gone: the engine says so (400)
    page = Page([], total, parsed)
    if only_total:
        return page
    rows = [_Row(f[0], f[1], f[2], f[3], f[4], f[5]) for f in fetched if f[0] is not None]
    more = len(rows) > result.count
    shown = rows[: result.count]
    if backward:
        shown.reverse()
    page.entries = _built(shown, patient)
    if shown:
        first, last = shown[0], shown[-1]

        def link(edge: _Row, back: bool) -> str:
            return Cursor(kind.name, snapshot, edge.source, str(edge.pk), back).dumps()

        position = edge_source is not None
        if (more and not backward) or (backward and position):
            page.next_cursor = link(last, False)
        if (more and backward) or (not backward and position):
            page.previous_cursor = link(first, True)
    return page


def _built(rows: list[_Row], patient: UUID) -> list[Built]:
    """The page's entries: stored texts as they are, vital signs from the store or built."""
    missing = {(r.pk, r.source) for r in rows if r.source > 0 and r.text is None}
    fresh = _build_missing(missing) if missing else {}
    entries = []
    for row in rows:
        if row.source == 0:
            assert row.resource_id is not None and row.text is not None
            entries.append(Built(row.resource_id, row.text, patient, row.last_updated))
            continue
        measure = MEASURES[row.source - 1]
        found = fresh.get((row.pk, row.source))
        if found is not None:
            entries.append(found)
        elif row.text is not None:  # None: the reading was deleted since the page was read
            entries.append(
                Built(
                    vitals_id(row.pk, measure),
                    row.text,
                    patient,
                    row.last_updated,
                    profile=PROFILE + measure.profile,
                )
            )
    return entries


def _build_missing(wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Built]:
    """Build the vital signs whose stored text is missing or stale with the engine's own
    builder (validated there), and store each with the stamp of the row it was built from
    (read in the same statement, so a text never carries a newer stamp than its row)."""
    from ketaclinic.fhir.resources.vitals import VITALS_SOURCES

    stamp = RawSQL(  # noqa: S611  our own table names; the fingerprint is a parameter
        stamp_sql(f'"{VitalsReading._meta.db_table}"', f'"{Course._meta.db_table}"'),
        (builder_fingerprint(),),
    )
    readings = {
        r.pk: r
        for r in VitalsReading.objects.filter(pk__in={pk for pk, _ in wanted})
        .select_related("session__course")
        .annotate(**{LAST_UPDATED: READING_LAST_UPDATED, "_fhir_stamp": stamp})
    }
    built: dict[tuple[int, int], Built] = {}
    store: list[VitalsText] = []
    for pk, source in sorted(wanted):
        reading = readings.get(pk)
        if reading is None:
            continue  # deleted since the page was read: not served
        item = VITALS_SOURCES[source - 1].build([reading])[0]
        built[(pk, source)] = item
        store.append(
            VitalsText(
                reading_id=pk,
                measure=MEASURES[source - 1].key,
                stamp=reading._fhir_stamp,  # type: ignore[attr-defined]
                json_text=item.text,
            )
        )
    if store:
        # In one order (reading, measure): two searches storing the same texts cannot deadlock.
        VitalsText.objects.bulk_create(
            store,
            update_conflicts=True,
            unique_fields=["reading", "measure"],
            update_fields=["stamp", "json_text"],
        )
    return built
