"""The printable session record (PDF, fpdf2): everything charted, the signatures and digest,
the addenda and, for esketamine, the REMS patient monitoring form's data."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from fpdf import FPDF

from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.infusions.services import session_protocol, signed_record_verify
from ketaclinic.infusions.snapshot import rems_form, rems_minutes, session_snapshot
from ketaclinic.lib.clinic_time import instant_local_text


def _latin1(text: object) -> str:
    # The core PDF fonts are Latin-1; anything else is shown as "?" rather than failing.
    return str(text).encode("latin-1", "replace").decode("latin-1")


class _Record(FPDF):
    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)

    def line_text(self, text: object) -> None:
        self.multi_cell(0, 4.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def record_pdf_bytes(session: Session) -> bytes:
    snapshot = session_snapshot(session)
    zone = timezone.get_current_timezone()

    def when(text: str | None) -> str:
        # The snapshot keeps UTC; the printout reads in the clinic's zone, the zone named.
        return instant_local_text(text, zone) or "-"

    pdf = _Record(format="A4")
    pdf.set_title(_latin1(f"Session record {session.pk}"))
    pdf.set_creator("KetaClinic")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 9, "Infusion session record", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    patient = snapshot["patient"]
    protocol = snapshot["protocol"]
    pdf.line_text(f"Patient {patient['name']}, MRN {patient['mrn']}, born {patient['birth_date']}")
    pdf.line_text(
        f"{protocol['medication']} ({protocol['route']}), protocol {protocol['code']} "
        f"v{protocol['version']}; chair {snapshot['chair']}; "
        f"booked {when(snapshot['booked_start'])}; "
        f"status {session.status}"
    )

    pdf.heading("Dose")
    for dose in snapshot["doses"]:
        pdf.line_text(
            f"{dose['dose_mg']} mg, {dose['drug_volume_ml']} mL, rate {dose['rate_ml_per_h']} mL/h "
            f"over {dose['infusion_minutes']} min; calculated by {dose['calculated_by']} at "
            f"{when(dose['calculated_at'])}; second check {dose['second_checked_by']} at "
            f"{when(dose['second_checked_at'])}"
            + (f"; override: {dose['override_reason']}" if dose["override_reason"] else "")
        )
        pdf.line_text(dose["working"])
    pdf.line_text(
        f"Administered: {snapshot['administered_mg']} mg ({snapshot['administered_volume_ml']} mL)"
    )

    pdf.heading("Chart, in order")
    for entry in snapshot["entries"]:
        data = json.dumps(entry["data"], sort_keys=True) if entry["data"] else ""
        reason = f" - {entry['reason']}" if entry["reason"] else ""
        pdf.line_text(f"{when(entry['at'])}  {entry['kind']} by {entry['by']}{reason} {data}")

    pdf.heading("Vital signs")
    for v in snapshot["vitals"]:
        shown = {k: "-" if v.get(k) is None else v[k] for k in _VITALS_SHOWN}
        pdf.line_text(
            f"{when(v['at'])} [{v['phase']}] BP {shown['systolic_mmhg']}/"
            f"{shown['diastolic_mmhg']} HR {shown['heart_rate_bpm']} "
            f"SpO2 {shown['spo2_percent']} RR {shown['respiratory_rate']} "
            f"MOAA/S {shown['moaas']} {_vitals_origin(v)}"
        )
    for a in snapshot.get("vitals_artefacts", []):
        pdf.line_text(
            f"{when(a['at'])} FROM MONITOR {a['device']}, marked artefact by {a['by']} "
            f"(not charted): {a['reason']}"
        )

    pdf.heading("Alerts")
    for a in snapshot["alerts"]:
        ack = f"acknowledged by {a['acknowledged_by']}" if a["acknowledged_by"] else "open"
        if a.get("acknowledgement_note"):
            ack += f": {a['acknowledgement_note']}"
        pdf.line_text(
            f"{when(a['raised_at'])} {a['code']} {a['value']} ({a['threshold']}): {a['message']} "
            f"Action: {a['recommended_action']}; {ack}"
        )

    if session.course.protocol.code == INTRANASAL_ESKETAMINE_56_MG:
        pdf.heading("Esketamine REMS patient monitoring form")
        minutes = rems_minutes(session_protocol(session))
        form: dict[str, Any] = rems_form(snapshot, bp_after_dose_minutes=minutes)
        for key, value in form.items():
            pdf.line_text(f"{key}: {'-' if value is None else value}")

    pdf.heading("Signatures")
    for s in snapshot["signatures"]:
        pdf.line_text(f"{s['role']}: {s['by']} at {when(s['at'])}")
    record = getattr(session, "signed_record", None)
    if session.status == SessionStatus.SIGNED and record is not None:
        verified = "verified" if signed_record_verify(session) else "ALTERED"
        pdf.line_text(f"Record SHA-256 {record.sha256} ({verified})")
        pdf.heading("Addenda")
        for addendum in session.addenda.select_related("author").order_by("at", "pk"):
            pdf.line_text(
                f"{timezone.localtime(addendum.at):%Y-%m-%d %H:%M %Z} "
                f"{addendum.author.username}: {addendum.text}"
            )
    return bytes(pdf.output())


_VITALS_SHOWN = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate",
    "moaas",
)


def _vitals_origin(v: dict[str, Any]) -> str:
    """Who charted the row: the typist, or the monitor and who confirmed it."""
    if v.get("source") != "monitor":
        return f"by {v['by']}"
    confirmed = (
        f"confirmed by {v['confirmed_by']}"
        if v.get("confirmed_by")
        else "confirmed automatically"
        if v.get("confirmed_at")
        else "NOT CONFIRMED"
    )
    return f"FROM MONITOR {v['device']}, {confirmed}"
