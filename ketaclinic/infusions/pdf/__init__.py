"""The printable session record (PDF, fpdf2), in the chart's order: who, what and the state;
the alerts in the clinic's words; the vital-signs graph (one panel per scale) and table; the
dose and the ledger draws; the history in words; the REMS form for esketamine; signatures,
digest and addenda. Every page carries the patient, its number ("page 2 of 3") and the clinic
zone all times are in."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from fpdf import FPDF

from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.pdf.vitals_graph import draw_vitals_graph
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.infusions.rules import history
from ketaclinic.infusions.selectors import vitals_chart_data
from ketaclinic.infusions.services import session_protocol, signed_record_verify
from ketaclinic.infusions.snapshot import rems_form, rems_minutes, session_snapshot
from ketaclinic.lib.clinic_time import instant_local_text


def _latin1(text: object) -> str:
    # The core PDF fonts are Latin-1; anything else is shown as "?" rather than failing.
    return str(text).encode("latin-1", "replace").decode("latin-1")


class _Record(FPDF):
    running_head = ""
    zone_name = ""

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("Helvetica", "", 8)
            self.cell(0, 5, _latin1(self.running_head), new_x="LMARGIN", new_y="NEXT")
            self.ln(1)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.cell(
            0,
            6,
            _latin1(f"Page {self.page_no()} of {{nb}} - times in {self.zone_name}"),
            align="C",
        )

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)

    def line_text(self, text: object) -> None:
        self.multi_cell(0, 4.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _zone_name(zone: tzinfo, at: datetime) -> str:
    short = timezone.localtime(at, zone).tzname()
    return str(zone) if short == str(zone) else f"{zone} ({short})"


def record_pdf_bytes(session: Session, *, at: datetime | None = None) -> bytes:
    """The record as it stands. ``at`` (when it is stored: signing, an addendum) is the
    PDF's creation date and the moment its zone is named at, so one render is one set of
    bytes; the stored PDFs (``RecordDocument``) are what is served."""
    at = at or timezone.now()
    snapshot = session_snapshot(session)
    zone = timezone.get_current_timezone()

    def when(text: str | None) -> str:
        # The snapshot keeps UTC; the printout reads in the clinic's zone, the zone named.
        return instant_local_text(text, zone) or "-"

    patient = snapshot["patient"]
    protocol = snapshot["protocol"]
    pdf = _Record(format="A4")
    pdf.running_head = (
        f"Infusion session record - {patient['name']}, MRN {patient['mrn']}, "
        f"booked {when(snapshot['booked_start'])}"
    )
    pdf.zone_name = _zone_name(zone, at)
    pdf.set_creation_date(at)
    pdf.set_title(_latin1(f"Session record {session.pk}"))
    pdf.set_creator("KetaClinic")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 9, "Infusion session record", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.line_text(f"Patient {patient['name']}, MRN {patient['mrn']}, born {patient['birth_date']}")
    pdf.line_text(
        f"{protocol['medication']} ({protocol['route']}), protocol {protocol['code']} "
        f"v{protocol['version']}; chair {snapshot['chair']}; "
        f"booked {when(snapshot['booked_start'])}; "
        f"state: {history.status_words(str(session.status))}"
    )
    doses = snapshot["doses"]
    if doses:
        dose = doses[-1]
        pdf.line_text(
            f"Dose {dose['dose_mg']} mg"
            + (f" = {dose['drug_volume_ml']} mL" if dose["drug_volume_ml"] else "")
            + (
                f" at {dose['rate_ml_per_h']} mL/h over {dose['infusion_minutes']} min"
                if dose["rate_ml_per_h"]
                else ""
            )
        )
    pdf.line_text(f"All times in {pdf.zone_name}.")

    pdf.heading("Alerts")
    for a in snapshot["alerts"]:
        ack = f"acknowledged by {a['acknowledged_by']}" if a["acknowledged_by"] else "OPEN"
        if a.get("acknowledgement_note"):
            ack += f": {a['acknowledgement_note']}"
        pdf.line_text(f"{when(a['raised_at'])}  {a['message']} ({a['value']}); {ack}")
    if not snapshot["alerts"]:
        pdf.line_text("None.")

    pdf.heading("Vital signs")
    draw_vitals_graph(pdf, vitals_chart_data(session, snapshot), zone)
    pdf.set_font("Helvetica", "", 7)
    pdf.line_text(
        "Dashed lines: the protocol's alert thresholds; dotted: its pre-dose holds; "
        "vertical lines: infusion events (start, changes, stop)."
    )
    pdf.set_font("Helvetica", "", 9)
    for v in snapshot["vitals"]:
        if v.get("source") == "monitor":
            # The device first, like the artefact lines below: its name is never split by a wrap.
            pdf.line_text(f"{when(v['at'])}  {_vitals_origin(v)}: {history.vitals_words(v)}")
        else:
            pdf.line_text(f"{when(v['at'])}  {history.vitals_words(v)} ({_vitals_origin(v)})")
    for a in snapshot.get("vitals_artefacts", []):
        pdf.line_text(
            f"{when(a['at'])}  FROM MONITOR {a['device']}, marked artefact by {a['by']} "
            f"(not charted): {a['reason']}"
        )

    pdf.heading("Dose")
    for dose in doses:
        pdf.line_text(
            f"{dose['dose_mg']} mg, {dose['drug_volume_ml']} mL, rate {dose['rate_ml_per_h']} mL/h "
            f"over {dose['infusion_minutes']} min; calculated by {dose['calculated_by']} at "
            f"{when(dose['calculated_at'])}; second check {dose['second_checked_by']} at "
            f"{when(dose['second_checked_at'])}"
            + (f"; override: {dose['override_reason']}" if dose["override_reason"] else "")
        )
        pdf.line_text(dose["working"])
    if snapshot["administered_mg"] is not None:
        pdf.line_text(
            f"Administered: {snapshot['administered_mg']} mg "
            f"({snapshot['administered_volume_ml'] or '-'} mL)"
        )

    pdf.heading("History")
    for line in history.history_lines(snapshot):
        if line.kind == "vitals":
            continue  # above, with the graph
        by = f" ({line.by})" if line.by else ""
        pdf.line_text(f"{when(line.at)}  {line.text}{by}")

    if session.course.protocol.code == INTRANASAL_ESKETAMINE_56_MG:
        pdf.heading("Esketamine REMS patient monitoring form")
        minutes = rems_minutes(session_protocol(session))
        form: dict[str, Any] = rems_form(snapshot, bp_after_dose_minutes=minutes)
        for key, value in form.items():
            pdf.line_text(f"{key}: {'-' if value is None else value}")

    pdf.heading("Signatures")
    for s in snapshot["signatures"]:
        role = history.ROLE_WORDS.get(str(s["role"]), str(s["role"]))
        pdf.line_text(f"{role}: {s['by']} at {when(s['at'])}")
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
