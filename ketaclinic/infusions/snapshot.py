"""The canonical snapshot of a session's chart: what signing freezes and its digest covers, what
the printed record and the REMS monitoring form show. Built in a fixed number of queries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from ketaclinic.infusions.models import (
    ChartEntry,
    DoseCheck,
    Session,
    SessionAlert,
    SessionSignature,
    VitalsReading,
)
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.lib.compiled_read import CompiledRead, Slot


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _num(value: Decimal | None) -> str | None:
    # Normalised text, so that 36.3 and 36.3000 (as a database returns it) are one value.
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _user(user: Any) -> str | None:
    return None if user is None else str(user.username)


def _alert(a: SessionAlert) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "code": a.code,
        "value": a.value,
        "threshold": f"{a.comparator} {a.threshold}",
        "recommended_action": a.recommended_action,
        "message": a.message,
        "raised_at": _when(a.raised_at),
        "acknowledged_by": _user(a.acknowledged_by),
        "acknowledged_at": _when(a.acknowledged_at),
    }
    # Only when there is one: records signed before notes existed keep their digest.
    if a.acknowledgement_note:
        alert["acknowledgement_note"] = a.acknowledgement_note
    return alert


@dataclass(frozen=True)
class ChartRows:
    """A session's charted rows, each list in the snapshot's order, read in five queries: the
    chart page reads them once for the snapshot and for what it works out from them."""

    entries: list[ChartEntry]
    vitals: list[VitalsReading]
    """Every reading, artefacts too."""
    alerts: list[SessionAlert]
    doses: list[DoseCheck]
    signatures: list[SessionSignature]


def _of_session() -> Slot:
    return Slot("session", models.UUIDField())


# Compiled once per process (lib/compiled_read.py): the chart page reads all five on each view.
_ENTRIES = CompiledRead(
    lambda: (
        ChartEntry.objects.filter(session_id=_of_session())
        .select_related("recorded_by")
        .order_by("at", "pk")
    )
)
_VITALS = CompiledRead(
    lambda: (
        VitalsReading.objects.filter(session_id=_of_session())
        .select_related("recorded_by", "confirmed_by", "artefact_by")
        .order_by("at", "pk")
    )
)
_ALERTS = CompiledRead(
    lambda: (
        SessionAlert.objects.filter(session_id=_of_session())
        .select_related("acknowledged_by")
        .order_by("raised_at", "pk")
    )
)
_DOSES = CompiledRead(
    lambda: (
        DoseCheck.objects.filter(session_id=_of_session())
        .select_related("calculated_by", "second_checked_by")
        .order_by("calculated_at", "pk")
    )
)
_SIGNATURES = CompiledRead(
    lambda: (
        SessionSignature.objects.filter(session_id=_of_session())
        .select_related("signed_by")
        .order_by("signed_at", "pk")
    )
)


def chart_rows(session: Session) -> ChartRows:
    pk = session.pk
    return ChartRows(
        entries=_ENTRIES.objects(session=pk),
        vitals=_VITALS.objects(session=pk),
        alerts=_ALERTS.objects(session=pk),
        doses=_DOSES.objects(session=pk),
        signatures=_SIGNATURES.objects(session=pk),
    )


def session_snapshot(session: Session, rows: ChartRows | None = None) -> dict[str, Any]:
    """Everything charted for the session, in order, with who and when (from `rows` when the
    caller has read them)."""
    course = session.course
    patient = course.patient
    rows = rows or chart_rows(session)
    entries, vitals, alerts = rows.entries, rows.vitals, rows.alerts
    doses, signatures = rows.doses, rows.signatures
    return {
        "session": str(session.pk),
        "patient": {
            "id": str(patient.pk),
            "mrn": patient.mrn,
            "name": f"{patient.family_name}, {patient.given_name}",
            "birth_date": patient.birth_date.isoformat(),
        },
        "protocol": {
            "code": course.protocol.code,
            "version": course.protocol.version,
            "medication": course.protocol.medication,
            "route": course.protocol.route,
        },
        "chair": session.chair.name,
        "booked_start": _when(session.start),
        "phase": session.phase,
        "administered_volume_ml": _num(session.administered_volume_ml),
        "administered_mg": _num(session.administered_mg),
        "entries": [
            {
                "kind": e.kind,
                "at": _when(e.at),
                "by": _user(e.recorded_by),
                "recorded_at": _when(e.recorded_at),
                "reason": e.reason,
                "data": json.loads(e.data_json),
            }
            for e in entries
        ],
        "doses": [
            {
                "amount": _num(d.amount),
                "weight_kg": _num(d.weight_kg),
                "concentration_mg_per_ml": _num(d.concentration_mg_per_ml),
                "bag_volume_ml": _num(d.bag_volume_ml),
                "dose_mg": _num(d.dose_mg),
                "drug_volume_ml": _num(d.drug_volume_ml),
                "devices": d.devices,
                "infusion_minutes": d.infusion_minutes,
                "rate_ml_per_h": _num(d.rate_ml_per_h),
                "max_single_dose_mg": _num(d.max_single_dose_mg),
                "above_maximum": d.above_maximum,
                "override_reason": d.override_reason,
                "working": d.working,
                "calculated_by": _user(d.calculated_by),
                "calculated_at": _when(d.calculated_at),
                "second_checked_by": _user(d.second_checked_by),
                "second_checked_at": _when(d.second_checked_at),
            }
            for d in doses
        ],
        "vitals": [
            {
                "at": _when(v.at),
                "phase": v.phase,
                "systolic_mmhg": v.systolic_mmhg,
                "diastolic_mmhg": v.diastolic_mmhg,
                "heart_rate_bpm": v.heart_rate_bpm,
                "spo2_percent": v.spo2_percent,
                "respiratory_rate": v.respiratory_rate,
                "moaas": v.moaas,
                "by": _user(v.recorded_by) if v.recorded_by_id else None,
                "source": v.source,
                "device": v.device,
                "confirmed_by": _user(v.confirmed_by) if v.confirmed_by_id else None,
                "confirmed_at": _when(v.confirmed_at),
            }
            for v in vitals
            if not v.artefact
        ],
        "vitals_artefacts": [
            {
                "at": _when(v.at),
                "device": v.device,
                "values": {name: getattr(v, name) for name in _VITAL_NAMES},
                "reason": v.artefact_reason,
                "by": _user(v.artefact_by) if v.artefact_by_id else None,
                "marked_at": _when(v.artefact_at),
            }
            for v in vitals
            if v.artefact
        ],
        "alerts": [_alert(a) for a in alerts],
        "signatures": [
            {"role": s.role, "by": _user(s.signed_by), "at": _when(s.signed_at)} for s in signatures
        ],
    }


_VITAL_NAMES = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate",
)


def _entries_of(snapshot: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in snapshot["entries"] if e["kind"] == kind]


def rems_minutes(protocol: ProtocolDefinition) -> int | None:
    """The protocol's timepoint for the REMS form's BP after dosing (None: it has none)."""
    after = protocol.monitoring.bp_after_dose_minutes
    return None if after is None else after.value


def rems_form(snapshot: dict[str, Any], *, bp_after_dose_minutes: int | None) -> dict[str, Any]:
    """The data of the esketamine REMS patient monitoring form (protocol.md lists its fields),
    taken from the chart. Co-medications and the lot come from the pre-checks and the ledger
    where they are charted; blank when the chart does not hold them. The BP after dosing is
    the reading nearest `bp_after_dose_minutes` after the start (the protocol's timepoint)."""
    # Monitor rows without a cuff have no blood pressure for the form.
    vitals = [v for v in snapshot["vitals"] if v["systolic_mmhg"] is not None]
    start = next(iter(_entries_of(snapshot, "infusion_start")), None)
    discharge = next(iter(_entries_of(snapshot, "discharge")), None)
    check_in = next(iter(_entries_of(snapshot, "check_in")), None)

    def parse(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

    start_at = parse(start["at"]) if start else None
    predose = [v for v in vitals if v["phase"] == "checked_in"]
    after = [
        (abs((parse(v["at"]) - start_at).total_seconds() / 60 - bp_after_dose_minutes), v)  # type: ignore[operator]
        for v in vitals
        if start_at is not None and bp_after_dose_minutes is not None and v["phase"] != "checked_in"
    ]
    after_dose = min(after, key=lambda pair: pair[0])[1] if after else None
    before_discharge = [v for v in vitals if v["phase"] == "recovery"]
    monitored = None
    if check_in and discharge:
        begin, end = parse(check_in["at"]), parse(discharge["at"])
        if begin and end:
            monitored = int((end - begin).total_seconds() // 60)
    sedation = [v["moaas"] for v in vitals if v["moaas"] is not None]
    dissociation = [
        e["data"]["score"]
        for e in _entries_of(snapshot, "assessment")
        if e["data"]["instrument"] in ("cadss", "dissociation_0_4")
    ]

    def bp(v: dict[str, Any] | None) -> str | None:
        return f"{v['systolic_mmhg']}/{v['diastolic_mmhg']}" if v else None

    doses = snapshot["doses"]
    return {
        "medication": snapshot["protocol"]["medication"],
        "dose_mg": doses[-1]["dose_mg"] if doses else None,
        "administered_mg": snapshot["administered_mg"],
        "lot": None,
        "sedating_or_bp_raising_co_medications": None,
        "total_monitored_minutes": monitored,
        "bp_before_dosing": bp(predose[-1] if predose else None),
        "bp_after_dose_minutes": bp_after_dose_minutes,
        "bp_after_dose": bp(after_dose),
        "bp_before_discharge": bp(before_discharge[-1] if before_discharge else None),
        "sedation_moaas_lowest": min(sedation) if sedation else None,
        "dissociation_highest": max(dissociation) if dissociation else None,
        # An oxygenation or breathing alert of the protocol (its thresholds, not ours).
        "respiratory_depression": any(
            a["code"] in ("spo2_low", "rr_low") for a in snapshot["alerts"]
        ),
    }
