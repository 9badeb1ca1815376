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

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When

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


def safety_for(filters: Filters, definitions: SafetyDefinitions | None = None) -> SafetyFigures:
    defs = definitions or shipped_safety()
    rows = safety_rows_for(filters).annotate(band=_band(defs))
    told = Q(planned_minutes__isnull=False, infused_minutes__isnull=False)
    early = told & Q(infused_minutes__lt=F("planned_minutes") - defs.early_stop_margin_minutes)
    tallies: dict[str, BandTally] = {}
    given = side_effects = told_n = early_n = 0
    per_band = rows.values("band").annotate(
        n=Count("pk"),
        side=Sum("side_effects"),
        told=Count("pk", filter=told),
        early=Count("pk", filter=early),
    )
    for row in per_band.order_by():
        tallies[row["band"]] = BandTally(sessions=row["n"])
        given += row["n"]
        side_effects += row["side"] or 0
        told_n += row["told"]
        early_n += row["early"]
    histograms: list[tuple[str, str | None]] = [
        ("systolic_rise", None),
        ("diastolic_rise", None),
        *((code, code) for code, _ in DISSOCIATION),
    ]
    for column, instrument in histograms:
        counts = (
            rows.filter(**{f"{column}__isnull": False})
            .values("band", column)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in counts:
            tally = tallies[row["band"]]
            if instrument is not None:
                histogram = tally.dissociation.setdefault(instrument, Counter())
            else:
                histogram = tally.systolic if column == "systolic_rise" else tally.diastolic
            histogram[row[column]] += row["n"]

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
