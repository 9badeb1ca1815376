"""Publishing chosen clinic figures on the public site (administrator chooses, a clinician
approves). A figure's snapshot keeps the denominators, the missing, the definition, the period
and the comparable published figures; a cell under the minimum number of patients (default 20,
so that no one can be recognised) is suppressed, its numbers never stored in the snapshot."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.outcomes.models import CourseOutcome, PublicFigure
from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.rules.published import comparisons, shipped_published, timepoint_text
from ketaclinic.outcomes.selectors import Filters, cells_for
from ketaclinic.outcomes.services import outcomes_current


def min_patients() -> int:
    return int(getattr(settings, "OUTCOMES_PUBLIC_MIN_PATIENTS", 20))


def figure_snapshot(figure: PublicFigure) -> dict[str, Any]:
    defs = shipped_definitions()
    outcomes_current(definitions=defs)  # the patients changed since: recomputed first
    measure = defs.measure(figure.measure)
    filters = Filters(measure=figure.measure, timepoint=figure.timepoint, disorder=figure.disorder)
    cells = cells_for(filters, defs, measure)
    rows = []
    for cell in cells:
        if cell.started < figure.min_patients:
            rows.append({"label": cell.label, "suppressed": True})
            continue
        rates = {}
        for key in ("responded", "remitted"):
            rate = cell.rate(key)
            ci = rate.completers_ci
            rates[key] = {
                "count": rate.count,
                "completers_percent": rate.completers,
                "ci_low": None if ci is None else ci.low * 100,
                "ci_high": None if ci is None else ci.high * 100,
                "itt_percent": rate.itt,
            }
        rows.append(
            {
                "label": cell.label,
                "suppressed": False,
                "started": cell.started,
                "with_data": cell.with_data,
                "missing": cell.missing,
                "rates": rates,
            }
        )
    period = CourseOutcome.objects.filter(measure=figure.measure).aggregate(
        first=Min("first_infusion_at"), last=Max("first_infusion_at")
    )
    population = defs.disorders[figure.disorder].label if figure.disorder else "anxiety disorders"
    return {
        "measure": measure.name,
        "timepoint": timepoint_text(figure.timepoint),
        "definition": (
            f"response: a fall of {measure.response_fall_percent} % or more from the score before "
            f"the first infusion; remission: {measure.name} {measure.remission_text}"
        ),
        "definitions_label": defs.label,
        "period": [
            None if period["first"] is None else period["first"].date().isoformat(),
            None if period["last"] is None else period["last"].date().isoformat(),
        ],
        "min_patients": figure.min_patients,
        "cells": rows,
        "comparisons": [
            {
                "study": c.figure.study,
                "response_percent": c.figure.response_percent,
                "remission_percent": c.figure.remission_percent,
                "notes": list(c.notes),
            }
            for c in comparisons(
                shipped_published(),
                measure=figure.measure,
                timepoint=figure.timepoint,
                clinic_population=f"this clinic's patients with {population.lower()}",
            )
        ],
    }


@transaction.atomic
def figure_choose(
    *, acting_user: Any, measure: str, timepoint: str, disorder: str = ""
) -> PublicFigure:
    require(acting_user, "outcomes.publish")
    shipped_definitions().measure(measure)  # KeyError for an unknown measure
    figure = PublicFigure(
        measure=measure,
        timepoint=timepoint,
        disorder=disorder,
        min_patients=min_patients(),
        chosen_by=acting_user,
    )
    figure.snapshot = figure_snapshot(figure)
    figure.refreshed_at = timezone.now()
    figure.save()
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="PublicFigure",
        object_id=figure.pk,
        patient_id=None,
    )
    return figure


@transaction.atomic
def figure_approve(*, acting_user: Any, figure_id: int) -> PublicFigure:
    require(acting_user, "outcomes.approve")
    figure = PublicFigure.objects.select_for_update().get(pk=figure_id, withdrawn=False)
    figure.approved_by = acting_user
    figure.approved_at = timezone.now()
    figure.save(update_fields=["approved_by", "approved_at"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="PublicFigure",
        object_id=figure.pk,
        patient_id=None,
    )
    return figure


def figures_refresh() -> int:
    """The job: recompute every live figure's snapshot (after ``outcomes refresh``)."""
    count = 0
    for figure in PublicFigure.objects.filter(withdrawn=False):
        figure.snapshot = figure_snapshot(figure)
        figure.refreshed_at = timezone.now()
        figure.save(update_fields=["snapshot", "refreshed_at"])
        count += 1
    return count


def figures_public() -> list[PublicFigure]:
    """What the public page shows: approved, not withdrawn."""
    return list(
        PublicFigure.objects.filter(approved_at__isnull=False, withdrawn=False).order_by(
            "measure", "timepoint"
        )
    )
