"""Who is in a cohort: its list, or every patient with a course on its protocol code."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ketaclinic.courses.models import Course
from ketaclinic.fhir.bulk.models import Cohort, CohortKind, CohortMember


def cohort_patient_ids(cohort: Cohort) -> QuerySet[Any]:
    """The members' patient ids, in a stable order."""
    if cohort.kind == CohortKind.PROTOCOL:
        return (
            Course.objects.filter(protocol__code=cohort.protocol_code)
            .values_list("patient_id", flat=True)
            .distinct()
            .order_by("patient_id")
        )
    return (
        CohortMember.objects.filter(cohort=cohort)
        .values_list("patient_id", flat=True)
        .order_by("patient_id")
    )
