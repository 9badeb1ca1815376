"""The clinic page's safety figures for the filtered courses, per 100 infusions given: alerts by
kind, side effects charted, infusions stopped before their planned minutes, and the peak
blood-pressure rise and peak dissociation by mg/kg dose band.

They are grouped aggregates over the per-session safety rows (``SessionSafetyRow``, kept
current by ``services.outcomes_current``), joined to the filtered courses: a fixed number of
queries whatever the number of sessions, and nothing per session comes into Python. The dose
band and the early-stop margin come from the versioned safety definitions when the page reads
(a ``CASE`` over the bands, a comparison with the margin), so a new version needs no
recompute. The quartiles are computed by the pure rules from the grouped counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, Q, QuerySet, Value, When

from ketaclinic.infusions.models import SessionAlert
from ketaclinic.outcomes.models import SessionSafetyRow
from ketaclinic.outcomes.rules.safety import (
    NO_DOSE,
    NOT_WEIGHT_BASED,
    BandTally,
    DoseBandRow,
    SafetyDefinitions,
    band_rows,
    per_100,
    shipped_safety,
)
from ketaclinic.outcomes.selectors.filters import Filters, outcomes_filtered

# The dissociation scores the chart records (infusions.assessments), in the table's order, with
# the safety row's column for each; MOAA/S is sedation, not dissociation, and is not shown here.
DISSOCIATION = (("cadss", "CADSS (0-92)"), ("dissociation_0_4", "dissociation rating (0-4)"))


@dataclass(frozen=True)
class SafetyRow:
    kind: str
    count: int
    denominator: int
    denominator_text: str  # what the denominator counts
    per_100: float | None


@dataclass(frozen=True)
class SafetyFigures:
    given: int
    rows: list[SafetyRow]
    by_dose: list[DoseBandRow]
    dissociation: tuple[tuple[str, str], ...]
    definitions: SafetyDefinitions


def safety_rows_for(filters: Filters) -> QuerySet[SessionSafetyRow]:
    """The safety rows of the infusions given in the filtered courses."""
    return SessionSafetyRow.objects.filter(
        course_id__in=outcomes_filtered(filters).values("course_id")
    )


def _band(defs: SafetyDefinitions) -> Case:
    """The dose band of a row, as ``rules.safety.dose_band`` gives it (the first band that
    contains the dose); an empty code for a dose in no band (refused when read)."""
    bands = []
    for band in defs.dose_bands:
        contains = Q()
        if band.low is not None:
            contains &= Q(mg_per_kg__gte=band.low)
        if band.below is not None:
            contains &= Q(mg_per_kg__lt=band.below)
        bands.append(When(contains, then=Value(band.code)))
    return Case(
        When(weight_based=False, then=Value(NOT_WEIGHT_BASED)),
        When(mg_per_kg__isnull=True, then=Value(NO_DOSE)),
        *bands,
        default=Value(""),
    )


# The histograms read in the same scan as the per-band counts: (kind, column); kind 0 is the
# band's own row (sessions, side effects, early stops and their denominator).
HISTOGRAMS = ("systolic_rise", "diastolic_rise", *(code for code, _ in DISSOCIATION))

UNION = """
WITH s AS ({rows})
SELECT 0, band, NULL, COUNT(*), SUM(side_effects), SUM(told), SUM(early) FROM s GROUP BY band
{histograms}
"""
HISTOGRAM = """UNION ALL
SELECT {kind}, band, {column}, COUNT(*), NULL, NULL, NULL FROM s
WHERE {column} IS NOT NULL GROUP BY band, {column}"""


def _tallies(
    filters: Filters, defs: SafetyDefinitions
) -> tuple[dict[str, BandTally], int, int, int]:
    """Per dose band, the sessions and the histograms of each value, with the side effects,
    the early stops and their denominator: one scan of the filtered rows (a common table
    expression read once per histogram), whatever the number of sessions."""
    told = Q(planned_minutes__isnull=False, infused_minutes__isnull=False)
    early = told & Q(infused_minutes__lt=F("planned_minutes") - defs.early_stop_margin_minutes)
    rows = (
        safety_rows_for(filters)
        .annotate(
            band=_band(defs),
            told=Case(When(told, then=Value(1)), default=Value(0)),
            early=Case(When(early, then=Value(1)), default=Value(0)),
        )
        .values("band", "side_effects", "told", "early", *HISTOGRAMS)
        .order_by()
    )
    sql, params = rows.query.sql_with_params()
    histograms = "\n".join(
        HISTOGRAM.format(kind=kind, column=column) for kind, column in enumerate(HISTOGRAMS, 1)
    )
    tallies: dict[str, BandTally] = {}
    side_effects = told_n = early_n = 0
    with connection.cursor() as cursor:
        cursor.execute(UNION.format(rows=sql, histograms=histograms), params)
        found = cursor.fetchall()
    for kind, band, value, n, side, told_sum, early_sum in sorted(found, key=lambda r: r[0]):
        if kind == 0:
            tallies[band] = BandTally(sessions=n)
            side_effects += side or 0
            told_n += told_sum or 0
            early_n += early_sum or 0
            continue
        tally = tallies[band]
        column = HISTOGRAMS[kind - 1]
        if column == "systolic_rise":
            tally.systolic[value] += n
        elif column == "diastolic_rise":
            tally.diastolic[value] += n
        else:
            tally.dissociation.setdefault(column, Counter())[value] += n
    return tallies, side_effects, told_n, early_n


def safety_for(filters: Filters, definitions: SafetyDefinitions | None = None) -> SafetyFigures:
    defs = definitions or shipped_safety()
    tallies, side_effects, told_n, early_n = _tallies(filters, defs)
    given = sum(t.sessions for t in tallies.values())

    result: list[SafetyRow] = []
    alerts = (
        SessionAlert.objects.filter(session_id__in=safety_rows_for(filters).values("session_id"))
        .values("code")
        .annotate(n=Count("id"))
        .order_by("-n", "code")
    )
    for alert in alerts:
        n = alert["n"]
        result.append(
            SafetyRow(f"Alert: {alert['code']}", n, given, "infusions given", per_100(n, given))
        )
    result.append(
        SafetyRow(
            "Side effects charted",
            side_effects,
            given,
            "infusions given",
            per_100(side_effects, given),
        )
    )
    result.append(
        SafetyRow(
            "Stopped before the planned minutes",
            early_n,
            told_n,
            "infusions with planned minutes and a charted stop",
            per_100(early_n, told_n),
        )
    )
    by_dose = band_rows(tallies, defs, [code for code, _ in DISSOCIATION])
    return SafetyFigures(given, result, by_dose, DISSOCIATION, defs)
