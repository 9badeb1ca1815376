"""The PDF copy of a signed consent document (fpdf2): the text the patient agreed to, and the
signature's details, digests and drawn image."""

from __future__ import annotations

import base64
import io

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from ketaclinic.consent.models import ConsentSignature
from ketaclinic.consent.services import PNG_PREFIX, signature_verify


def _latin1(text: object) -> str:
    # The core PDF fonts are Latin-1; anything else is shown as "?" rather than failing.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def consent_pdf_bytes(signature: ConsentSignature) -> bytes:
    document = signature.document
    patient = signature.patient
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"{document.title} (version {document.version})"))
    pdf.set_creator("KetaClinic")
    # The signature time, not now: the same signature gives the same bytes (and SHA-1, which
    # the FHIR DocumentReference carries) every time the copy is rendered.
    pdf.set_creation_date(signature.signed_at)
    pdf.add_page()
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin1(settings.KETACLINIC_CLINIC_NAME), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, _latin1(document.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        _latin1(f"Version {document.version}, in use from {document.effective_from:%Y-%m-%d}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    for paragraph in document.body.split("\n"):
        pdf.multi_cell(0, 5, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, "Signature", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    signed_at = timezone.localtime(signature.signed_at)
    lines = [
        f"Patient: {patient.display_name}, MRN {patient.mrn}, born {patient.birth_date:%Y-%m-%d}",
        f"Signed as: {signature.signed_name}",
        f"Signed at: {signed_at:%Y-%m-%d %H:%M %Z}",
        f"How: {signature.get_method_display()}",
    ]
    if signature.witnessed_by is not None:
        lines.append(f"Witnessed by: {signature.witnessed_by.get_username()}")
    lines += [
        f"Recorded by: {signature.recorded_by.get_username()}",
        f"Document digest (SHA-256): {signature.document_digest}",
        f"Signature digest (SHA-256): {signature.digest}",
        "Digests verify: " + ("yes" if signature_verify(signature) else "NO - ALTERED"),
    ]
    for line in lines:
        pdf.multi_cell(0, 4.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    if signature.signature_image.startswith(PNG_PREFIX):
        raw = base64.b64decode(signature.signature_image[len(PNG_PREFIX) :])
        pdf.ln(2)
        pdf.image(io.BytesIO(raw), w=70)
    return bytes(pdf.output())
