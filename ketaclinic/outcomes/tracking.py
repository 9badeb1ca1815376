"""Not-on-track alerts: the expected curves in use per protocol x disorder x measure cell, their
refit (MixedLM once a cell has enough completed inductions, else the published curve), and the
check that tells a course's prescriber when its score at the check infusion lies above the band.

A flag is a message to the prescriber's inbox with the reason and the curve; it never changes a
treatment. Writes are audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, UUIDField
from django.urls import reverse

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import Protocol
from ketaclinic.infusions.protocols.definitions import Phase
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.outcomes.models import CourseOutcome, ExpectedCurve, NotOnTrackFlag, TimepointResult
from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.rules.expected import (
    Curve,
    check,
    check_infusion_default,
    curve_from_json,
    published_curve,
)
from ketaclinic.outcomes.rules.mixed import FitFailed, fit_mixed
from ketaclinic.scales.models import Notification

DEFAULT_INDUCTION = 6


def min_inductions() -> int:
    """Completed inductions a cell needs before its own model replaces the published curve."""
    return int(getattr(settings, "OUTCOMES_MIN_INDUCTIONS", 100))


def check_infusion() -> int:
    return int(getattr(settings, "OUTCOMES_CHECK_INFUSION", check_infusion_default()))


def induction_length(protocol_code: str) -> int:
    protocol = Protocol.objects.filter(code=protocol_code).order_by("-version").first()
    if protocol is None:
        return DEFAULT_INDUCTION
    rule = protocol.definition().schedule.get(Phase.INDUCTION)
    if rule is None or rule.max_sessions is None:
        return DEFAULT_INDUCTION
    return int(rule.max_sessions.value)


@dataclass(frozen=True)
class CurveInUse:
    protocol_code: str
    disorder: str
    measure: str
    curve: Curve | None
    completed_inductions: int
    note: str


def curve_in_use(protocol_code: str, disorder: str, measure: str) -> tuple[Curve | None, str]:
    """The cell's fitted curve if one is in use, else the published one; and the latest failed
    fit's reason, if a later fit failed."""
    rows = ExpectedCurve.objects.filter(
        protocol_code=protocol_code, disorder=disorder, measure=measure
    )
    note = ""
    latest = rows.order_by("-fitted_at", "-pk").first()
    if latest is not None and latest.source == "failed":
        note = (
            f"The latest refit ({latest.fitted_at:%Y-%m-%d %H:%M}) was not used: {latest.message}"
        )
    fitted = rows.filter(in_use=True).order_by("-fitted_at", "-pk").first()
    if fitted is not None:
        return curve_from_json(fitted.params), note
    return published_curve(measure), note


def _cells() -> Iterator[tuple[str, str, str]]:
    rows = (
        CourseOutcome.objects.filter(baseline__isnull=False)
        .values_list("protocol_code", "disorder", "measure")
        .distinct()
        .order_by("protocol_code", "disorder", "measure")
    )
    yield from rows


def _completed(protocol_code: str, disorder: str, measure: str) -> int:
    return CourseOutcome.objects.filter(
        protocol_code=protocol_code,
        disorder=disorder,
        measure=measure,
        baseline__isnull=False,
        infusions_given__gte=induction_length(protocol_code),
    ).count()


def _fit_rows(
    protocol_code: str, disorder: str, measure: str
) -> Iterator[tuple[str, int, int, int]]:
    rows = (
        TimepointResult.objects.filter(
            outcome__protocol_code=protocol_code,
            outcome__disorder=disorder,
            outcome__measure=measure,
            outcome__infusions_given__gte=induction_length(protocol_code),
            timepoint="infusion",
            has_baseline=True,
        )
        .order_by("outcome_id", "infusion_number")
        .values_list("outcome__course_id", "infusion_number", "outcome__baseline", "score")
    )
    for course, number, baseline, score in rows.iterator(chunk_size=5000):
        yield str(course), int(number), int(baseline or 0), int(score)


@transaction.atomic
def curves_refit(*, acting_user: Any, minimum: int | None = None) -> list[ExpectedCurve]:
    """Refit every cell that has enough completed inductions. A fit that fails or does not
    converge is recorded (not in use) and the previous curve stays."""
    needed = min_inductions() if minimum is None else minimum
    written: list[ExpectedCurve] = []
    for protocol_code, disorder, measure in _cells():
        completed = _completed(protocol_code, disorder, measure)
        if completed < needed:
            continue
        label = (
            f"clinic mixed model ({completed} completed inductions, "
            f"{protocol_code} / {disorder or 'no diagnosis'} / {measure})"
        )
        result = fit_mixed(
            _fit_rows(protocol_code, disorder, measure), label=label, min_courses=needed
        )
        if isinstance(result, FitFailed):
            row = ExpectedCurve.objects.create(
                protocol_code=protocol_code,
                disorder=disorder,
                measure=measure,
                source="failed",
                completed_inductions=completed,
                in_use=False,
                message=result.reason[:300],
            )
        else:
            ExpectedCurve.objects.filter(
                protocol_code=protocol_code, disorder=disorder, measure=measure, in_use=True
            ).update(in_use=False)
            row = ExpectedCurve.objects.create(
                protocol_code=protocol_code,
                disorder=disorder,
                measure=measure,
                source="mixedlm",
                params=result.to_json(),
                completed_inductions=completed,
                in_use=True,
            )
        audit_record(
            actor=acting_user,
            action=Action.EXECUTE,
            object_type="ExpectedCurve",
            object_id=row.pk,
            patient_id=None,
        )
        written.append(row)
    return written


def curves_overview() -> list[CurveInUse]:
    """What the page says about the curves: one line per cell with data."""
    found = []
    for protocol_code, disorder, measure in _cells():
        curve, note = curve_in_use(protocol_code, disorder, measure)
        found.append(
            CurveInUse(
                protocol_code,
                disorder,
                measure,
                curve,
                _completed(protocol_code, disorder, measure),
                note,
            )
        )
    return found


@transaction.atomic
def not_on_track_check(*, acting_user: Any) -> list[NotOnTrackFlag]:
    """Flag each course whose score after the check infusion lies above its band, once per
    course and measure; its prescriber (who started the course) gets an inbox message."""
    number = check_infusion()
    measures = shipped_definitions().measures
    raised: list[NotOnTrackFlag] = []
    rows = (
        TimepointResult.objects.filter(
            timepoint="infusion", infusion_number=number, has_baseline=True
        )
        .select_related("outcome")
        .order_by("outcome_id")
    )
    curves: dict[tuple[str, str, str], Curve | None] = {}
    for point in rows.iterator(chunk_size=2000):
        outcome = point.outcome
        key = (outcome.protocol_code, outcome.disorder, outcome.measure)
        if key not in curves:
            curves[key] = curve_in_use(*key)[0]
        curve = curves[key]
        if curve is None or outcome.baseline is None:
            continue
        if NotOnTrackFlag.objects.filter(
            course_id=outcome.course_id, measure=outcome.measure
        ).exists():
            continue
        name = measures[outcome.measure].name if outcome.measure in measures else outcome.measure
        verdict = check(
            curve, baseline=outcome.baseline, infusion=number, score=point.score, measure=name
        )
        if verdict.on_track:
            continue
        flag = NotOnTrackFlag.objects.create(
            course_id=outcome.course_id,
            patient_id=outcome.patient_id,
            measure=outcome.measure,
            infusion_number=number,
            baseline=outcome.baseline,
            score=point.score,
            expected=verdict.expected,
            band_upper=verdict.upper,
            curve_source=curve.source,
            curve_label=curve.label[:300],
            reason=verdict.reason[:500],
            prescriber_id=outcome.clinician_id,
        )
        audit_record(
            actor=acting_user,
            action=Action.CREATE,
            object_type="NotOnTrackFlag",
            object_id=flag.pk,
            patient_id=outcome.patient_id,
        )
        raised.append(flag)
    if raised:
        ids = [f.pk for f in raised]
        transaction.on_commit(lambda: prescribers_notify(flag_ids=ids))
    return raised


def prescribers_notify(*, flag_ids: list[int]) -> None:
    """An inbox message to each flagged course's prescriber: the measure and where to look,
    never the patient's name (the record shows the reason and the curve)."""
    flags = NotOnTrackFlag.objects.filter(pk__in=flag_ids).order_by("pk")
    Notification.objects.bulk_create(
        Notification(
            user_id=flag.prescriber_id,
            text=(
                f"Not on track: {flag.measure.upper()} after infusion {flag.infusion_number} "
                "is above the expected band; review the course (no change was made)"
            )[:200],
            link=reverse("patients:detail", kwargs={"patient_id": flag.patient_id}),
        )
        for flag in flags
    )


# Compiled once per process (lib/compiled_read.py): the staff record page reads it each view.
_PATIENT_FLAGS = CompiledRead(
    lambda: NotOnTrackFlag.objects.filter(patient_id=Slot("patient", UUIDField())).order_by(
        "-raised_at"
    )
)


def flags_for_patient(patient_id: Any) -> list[NotOnTrackFlag]:
    flags: list[NotOnTrackFlag] = _PATIENT_FLAGS.objects(patient=patient_id)
    return flags


def flag_counts() -> dict[str, int]:
    return dict(
        NotOnTrackFlag.objects.values_list("curve_source").annotate(n=Count("id")).order_by()
    )
