"""A letter's PDF: the clinic's letterhead, the recipient, the patient (name, date of birth),
the text, the scores table and the signature block."""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF

from ketaclinic.letters.rules.content import (
    LetterContent,
    Signature,
    score_row_cells,
    signature_lines,
)

HEADERS = ("Measure", "Baseline", "Latest", "Change", "Outcome")
WIDTHS = (28, 38, 38, 18, 48)


def latin1(text: object) -> str:
    # The core PDF fonts are Latin-1; anything else is shown as "?" rather than failing.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def letterhead(pdf: FPDF, name: str, address: str, phone: str) -> None:
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 7, latin1(name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, latin1(f"{address} - telephone {phone}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.ln(5)


def letter_pdf_bytes(
    content: LetterContent, signature: Signature | None, *, created: datetime
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(latin1(content.subject))
    pdf.set_creator("KetaClinic")
    pdf.set_creation_date(created)
    pdf.add_page()
    letterhead(pdf, content.clinic_name, content.clinic_address, content.clinic_phone)
    pdf.set_font("Helvetica", "", 10)
    to = [
        content.recipient_name,
        content.recipient_organisation,
        *content.recipient_address.split("\n"),
    ]
    for line in (t for t in to if t.strip()):
        pdf.cell(0, 5, latin1(line.strip()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.cell(0, 5, latin1(f"Date: {content.dated}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        5,
        latin1(f"Patient: {content.patient_name}, born {content.birth_date}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, latin1(content.subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    for paragraph in content.body.split("\n"):
        pdf.multi_cell(0, 5, latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
    if content.scores:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, "Scores", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 9)
        for header, width in zip(HEADERS, WIDTHS, strict=True):
            pdf.cell(width, 6, header, border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", 9)
        for row in content.scores:
            for cell, width in zip(score_row_cells(row), WIDTHS, strict=True):
                pdf.cell(width, 6, latin1(cell), border=1)
            pdf.ln()
        if content.score_note:
            pdf.set_font("Helvetica", "", 7.5)
            pdf.multi_cell(0, 4, latin1(content.score_note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 5, "Yours sincerely,", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B" if signature else "I", 10)
    for line in signature_lines(signature):
        pdf.cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7.5)
    pdf.ln(2)
    pdf.cell(0, 4, latin1(f"Letter {content.letter_id}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
