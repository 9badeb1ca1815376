"""The patient's discharge instructions after a session, in plain words, from the protocol
data (escort home, no driving until the next day) and the clinic's phone. The session chart
records only that instructions were given; this is the copy of what the patient is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from fpdf import FPDF

from ketaclinic.letters.printing.letter import latin1, letterhead


@dataclass(frozen=True)
class DischargeFacts:
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    patient_name: str
    session_day: str
    escort_required: bool
    no_driving_until_next_day: bool


def discharge_lines(facts: DischargeFacts) -> list[str]:
    """The instructions, one a line, in the active language."""
    lines = []
    if facts.escort_required:
        lines.append(_("An adult must take you home and should stay with you on the way."))
    if facts.no_driving_until_next_day:
        lines.append(
            _("Do not drive, cycle or use machines until the next day, after a night's sleep.")
        )
    lines += [
        _("Rest for the rest of the day. Do not drink alcohol today."),
        _("Do not make important decisions or sign important papers today."),
        _("You may feel tired, dizzy or a little sick. This usually passes within a few hours."),
        _("Eat something light when you feel ready, and drink water."),
        _("If you feel unwell, or the feelings do not pass, call the clinic on %(phone)s.")
        % {"phone": facts.clinic_phone},
        _("If you have thoughts of harming yourself, call or text 988 (Suicide & Crisis Line)."),
        _("In an emergency, or if you have chest pain or trouble breathing, call 911."),
    ]
    return lines


def discharge_pdf_bytes(facts: DischargeFacts, *, created: datetime) -> bytes:
    pdf = FPDF(format="A4")
    title = _("After your session: what to do")
    pdf.set_title(latin1(title))
    pdf.set_creator("KetaClinic")
    pdf.set_creation_date(created)
    pdf.add_page()
    letterhead(pdf, facts.clinic_name, facts.clinic_address, facts.clinic_phone)
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        latin1(
            _("For %(name)s, session of %(day)s")
            % {"name": facts.patient_name, "day": facts.session_day}
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 12)
    for line in discharge_lines(facts):
        pdf.multi_cell(0, 7, latin1(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
