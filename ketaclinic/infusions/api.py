"""The session chart API under /api/v1/sessions/{id}/... Refusals by the chart's rules answer
409 with every reason (a signed session refuses every write); bad input answers 422 with field
paths; ids are parsed by the selector, so a malformed id is the same 404 as an unknown one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from ketaclinic.api.errors import refused_response
from ketaclinic.infusions import services
from ketaclinic.infusions.models import DoseCheck, Session, SessionAlert
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.infusions.schemas import (
    AcknowledgeIn,
    AddendumIn,
    AddendumOut,
    AlertOut,
    AssessmentIn,
    ChartOut,
    DischargeIn,
    DoseIn,
    DoseOut,
    EntryOut,
    InfusionEventIn,
    PreChecksIn,
    PreChecksOut,
    ReasonIn,
    RefusedOut,
    SecondCheckIn,
    SessionStateOut,
    SideEffectIn,
    StopIn,
    StopOut,
    VitalsIn,
    VitalsOut,
)
from ketaclinic.infusions.selectors import session_get_for_user
from ketaclinic.infusions.snapshot import rems_form, rems_minutes, session_snapshot

router = Router(tags=["session chart"])

REFUSED = {409: RefusedOut}


def chart_refused(request: HttpRequest, exc: services.ChartRefused) -> HttpResponse:
    """409 with the reasons; ``ketaclinic.api.v1`` answers every ChartRefused with it."""
    return refused_response(request, exc.reasons)


def _session(request: HttpRequest, session_id: str) -> Session:
    return session_get_for_user(request.user, session_id, permission="session.chart", audit=False)


def _session_id(session_id: str) -> UUID:
    """The hot path reads the session once, locked, in the service (which checks the rights)."""
    try:
        return UUID(session_id)
    except ValueError:
        raise Session.DoesNotExist from None


def _state(session: Session) -> dict[str, Any]:
    return {"id": str(session.pk), "status": session.status}


def _rounded(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    # As the protocol rounds (a database may hand back more decimal places than were stored).
    return None if value is None else value.quantize(quantum)


def _dose_out(session: Session, dose: DoseCheck) -> dict[str, Any]:
    rounding = services.session_protocol(session).dosing.rounding
    return {
        "id": dose.pk,
        "dose_mg": _rounded(dose.dose_mg, rounding.dose_mg),
        "drug_volume_ml": _rounded(dose.drug_volume_ml, rounding.volume_ml),
        "infusion_minutes": dose.infusion_minutes,
        "rate_ml_per_h": _rounded(dose.rate_ml_per_h, rounding.rate_ml_per_h),
        "above_maximum": dose.above_maximum,
        "max_single_dose_mg": dose.max_single_dose_mg.normalize(),
        "working": dose.working.splitlines(),
        "second_checked_by": dose.second_checked_by.username if dose.second_checked_by else None,
    }


def alert_out(alert: SessionAlert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "code": alert.code,
        "field": alert.field,
        "value": alert.value,
        "threshold": f"{alert.comparator} {alert.threshold}",
        "recommended_action": alert.recommended_action,
        "actions": alert.actions.split(","),
        "message": alert.message,
        "source": alert.source,
        "acknowledged": alert.acknowledged_at is not None,
        "acknowledged_by": alert.acknowledged_by.username if alert.acknowledged_by else None,
        "acknowledgement_note": alert.acknowledgement_note,
    }


@router.get("/sessions/{session_id}", response=ChartOut, url_name="session_chart")
def chart_get(request: HttpRequest, session_id: str) -> dict[str, Any]:
    session = session_get_for_user(request.user, session_id)
    snapshot = session_snapshot(session)
    record = getattr(session, "signed_record", None) if session.status == "signed" else None
    return {
        "id": str(session.pk),
        "status": session.status,
        "record": snapshot,
        "signed_sha256": record.sha256 if record else None,
        "verified": services.signed_record_verify(session) if record else None,
        "addenda": [
            {
                "id": a.pk,
                "text": a.text,
                "record_sha256": a.record_sha256,
                "author": a.author.username,
                "at": a.at,
            }
            for a in session.addenda.select_related("author").order_by("at", "pk")
        ],
        "rems": rems_form(
            snapshot, bp_after_dose_minutes=rems_minutes(services.session_protocol(session))
        )
        if session.course.protocol.code == INTRANASAL_ESKETAMINE_56_MG
        else None,
    }


@router.post(
    "/sessions/{session_id}/check-in",
    response={200: SessionStateOut, **REFUSED},
    url_name="session_check_in",
)
def check_in(request: HttpRequest, session_id: str) -> dict[str, Any]:
    session = services.session_check_in(
        acting_user=request.user, session=_session(request, session_id)
    )
    return _state(session)


@router.post(
    "/sessions/{session_id}/pre-checks",
    response={201: PreChecksOut, **REFUSED},
    url_name="session_prechecks",
)
def prechecks(request: HttpRequest, session_id: str, payload: PreChecksIn) -> Status[Any]:
    session = _session(request, session_id)
    entry = services.prechecks_record(
        acting_user=request.user,
        session=session,
        checks=services.PreChecks(**payload.model_dump()),
    )
    problems = services.prechecks_problems(
        services.entry_data(entry), protocol=services.session_protocol(session), at=entry.at
    ) + services.questionnaire_problems(session, at=entry.at)
    return Status(201, {"complete": not problems, "problems": problems})


@router.post(
    "/sessions/{session_id}/clinician-review",
    response={201: EntryOut, **REFUSED},
    url_name="session_clinician_review",
)
def clinician_review(request: HttpRequest, session_id: str, payload: ReasonIn) -> Status[Any]:
    entry = services.clinician_review_record(
        acting_user=request.user, session=_session(request, session_id), reason=payload.reason
    )
    return Status(201, entry)


@router.post(
    "/sessions/{session_id}/draw-exception",
    response={201: EntryOut, **REFUSED},
    url_name="session_draw_exception",
)
def draw_exception(request: HttpRequest, session_id: str, payload: ReasonIn) -> Status[Any]:
    """A clinician lets the dose start without a recorded ledger draw, with the reason."""
    entry = services.draw_exception_record(
        acting_user=request.user, session=_session(request, session_id), reason=payload.reason
    )
    return Status(201, entry)


@router.post(
    "/sessions/{session_id}/dose", response={201: DoseOut, **REFUSED}, url_name="session_dose"
)
def dose(request: HttpRequest, session_id: str, payload: DoseIn) -> Status[Any]:
    session = _session(request, session_id)
    checked = services.dose_calculate_record(
        acting_user=request.user,
        session=session,
        weight_kg=payload.weight_kg,
        concentration_mg_per_ml=payload.concentration_mg_per_ml,
        bag_volume_ml=payload.bag_volume_ml,
        override_reason=payload.override_reason,
    )
    return Status(201, _dose_out(session, checked))


@router.post(
    "/sessions/{session_id}/dose/second-check",
    response={200: DoseOut, **REFUSED},
    url_name="session_dose_second_check",
)
def second_check(request: HttpRequest, session_id: str, payload: SecondCheckIn) -> dict[str, Any]:
    session = _session(request, session_id)
    checked = services.dose_second_check(
        acting_user=request.user,
        session=session,
        username=payload.username,
        password=payload.password,
        totp=payload.totp,
        request=request,
    )
    return _dose_out(session, checked)


@router.post(
    "/sessions/{session_id}/start",
    response={200: SessionStateOut, **REFUSED},
    url_name="session_start",
)
def start(request: HttpRequest, session_id: str) -> dict[str, Any]:
    return _state(
        services.infusion_start(acting_user=request.user, session=_session(request, session_id))
    )


@router.post(
    "/sessions/{session_id}/infusion",
    response={201: EntryOut, **REFUSED},
    url_name="session_infusion_event",
)
def infusion_event(request: HttpRequest, session_id: str, payload: InfusionEventIn) -> Status[Any]:
    entry = services.infusion_event_record(
        acting_user=request.user,
        session=_session(request, session_id),
        action=payload.action,
        reason=payload.reason,
        rate_ml_per_h=payload.rate_ml_per_h,
    )
    return Status(201, entry)


@router.post(
    "/sessions/{session_id}/stop", response={200: StopOut, **REFUSED}, url_name="session_stop"
)
def stop(request: HttpRequest, session_id: str, payload: StopIn) -> dict[str, Any]:
    session = services.infusion_stop(
        acting_user=request.user,
        session=_session(request, session_id),
        administered_volume_ml=payload.administered_volume_ml,
        reason=payload.reason,
    )
    return _state(session) | {
        "administered_volume_ml": session.administered_volume_ml,
        "administered_mg": session.administered_mg,
    }


VITAL_NAMES = {
    "systolic_mmhg": "systolic",
    "diastolic_mmhg": "diastolic",
    "heart_rate_bpm": "heart_rate",
    "spo2_percent": "spo2",
    "respiratory_rate": "resp_rate",
    "moaas": "moaas",
}


@router.post(
    "/sessions/{session_id}/vitals",
    response={200: VitalsOut, 201: VitalsOut, **REFUSED},
    url_name="session_vitals",
)
def vitals(
    request: HttpRequest,
    session_id: str,
    payload: VitalsIn,
    response: HttpResponse,
) -> Status[Any]:
    """Accepts an Idempotency-Key header: a retried post with the same key stores one row and
    answers 200 with the first post's reading and alerts (`Idempotent-Replayed: true`); the
    same key with other values answers 422 and stores nothing."""
    # Its own mechanism, the key kept on the reading (the chair-side hot path: one locked
    # query); every other write has ketaclinic/idempotency.
    idempotency_key = request.headers.get("Idempotency-Key", "")
    session = _session_id(session_id)
    try:
        recorded = services.vitals_record(
            acting_user=request.user,
            session=session,
            vitals=services.VitalsIn(
                at=payload.at,
                systolic_mmhg=payload.systolic,
                diastolic_mmhg=payload.diastolic,
                heart_rate_bpm=payload.heart_rate,
                spo2_percent=payload.spo2,
                respiratory_rate=payload.resp_rate,
                moaas=payload.moaas,
            ),
            idempotency_key=idempotency_key,
        )
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {VITAL_NAMES.get(name, name): errors for name, errors in exc.error_dict.items()}
        ) from None
    body = {
        "id": recorded.reading.pk,
        "at": recorded.reading.at,
        "hold": recorded.hold,
        "alerts": [alert_out(a) for a in recorded.alerts],
    }
    if not recorded.created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if recorded.created else 200, body)


@router.post(
    "/sessions/{session_id}/side-effects",
    response={201: EntryOut, **REFUSED},
    url_name="session_side_effects",
)
def side_effect(request: HttpRequest, session_id: str, payload: SideEffectIn) -> Status[Any]:
    entry = services.side_effect_record(
        acting_user=request.user, session=_session(request, session_id), **payload.model_dump()
    )
    return Status(201, entry)


@router.post(
    "/sessions/{session_id}/assessments",
    response={201: EntryOut, **REFUSED},
    url_name="session_assessments",
)
def assessment(request: HttpRequest, session_id: str, payload: AssessmentIn) -> Status[Any]:
    entry = services.assessment_record(
        acting_user=request.user, session=_session(request, session_id), **payload.model_dump()
    )
    return Status(201, entry)


@router.post(
    "/sessions/{session_id}/alerts/{alert_id}/acknowledge",
    response={200: AlertOut, **REFUSED},
    url_name="session_alert_acknowledge",
)
def acknowledge(
    request: HttpRequest, session_id: str, alert_id: int, payload: AcknowledgeIn
) -> dict[str, Any]:
    alert = services.alert_acknowledge(
        acting_user=request.user,
        session=_session(request, session_id),
        alert_id=alert_id,
        note=payload.note,
    )
    return alert_out(alert)


@router.post(
    "/sessions/{session_id}/discharge",
    response={200: SessionStateOut, **REFUSED},
    url_name="session_discharge",
)
def discharge(request: HttpRequest, session_id: str, payload: DischargeIn) -> dict[str, Any]:
    session = services.session_discharge(
        acting_user=request.user, session=_session(request, session_id), **payload.model_dump()
    )
    return _state(session)


@router.post(
    "/sessions/{session_id}/sign",
    response={200: SessionStateOut, **REFUSED},
    url_name="session_sign",
)
def sign(request: HttpRequest, session_id: str) -> dict[str, Any]:
    session = session_get_for_user(request.user, session_id, permission="session.sign", audit=False)
    return _state(services.session_sign(acting_user=request.user, session=session))


@router.post(
    "/sessions/{session_id}/addenda",
    response={201: AddendumOut, **REFUSED},
    url_name="session_addenda",
)
def addendum(request: HttpRequest, session_id: str, payload: AddendumIn) -> Status[Any]:
    added = services.addendum_add(
        acting_user=request.user, session=_session(request, session_id), text=payload.text
    )
    return Status(
        201,
        {
            "id": added.pk,
            "text": added.text,
            "record_sha256": added.record_sha256,
            "author": added.author.username,
            "at": added.at,
        },
    )
