"""The clinic page's filters and the computed outcome rows they select."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from ketaclinic.outcomes.models import CourseOutcome


@dataclass(frozen=True)
class Filters:
    measure: str = "gad7"
    timepoint: str = "post_induction"  # "infusion:N", a follow-up code, or "latest"
    disorder: str = ""
    protocol: str = ""
    route: str = ""
    clinician: int | None = None
    period_from: date | None = None
    period_to: date | None = None

    @property
    def infusion_number(self) -> int | None:
        if self.timepoint.startswith("infusion:"):
            return int(self.timepoint.split(":", 1)[1])
        return None


def outcomes_filtered(filters: Filters) -> QuerySet[CourseOutcome]:
    rows = CourseOutcome.objects.filter(measure=filters.measure)
    if filters.disorder:
        rows = rows.filter(disorder=filters.disorder)
    if filters.protocol:
        rows = rows.filter(protocol_code=filters.protocol)
    if filters.route:
        rows = rows.filter(route=filters.route)
    if filters.clinician is not None:
        rows = rows.filter(clinician_id=filters.clinician)
    zone = timezone.get_current_timezone()
    if filters.period_from is not None:
        start = datetime.combine(filters.period_from, time.min, tzinfo=zone)
        rows = rows.filter(first_infusion_at__gte=start)
    if filters.period_to is not None:
        end = datetime.combine(filters.period_to, time.max, tzinfo=zone)
        rows = rows.filter(first_infusion_at__lte=end)
    return rows
