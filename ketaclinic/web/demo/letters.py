"""The demo's referrals and letters: a GP's referral (with a synthetic PDF letter) on a new
inquiry, and one signed letter about the patient ``pat`` to their GP, marked printed, so that
the staff's letters page and pat's portal documents show one of each."""

from __future__ import annotations

from datetime import date

from fpdf import FPDF

from ketaclinic.intake.models import Inquiry
from ketaclinic.letters.models import Letter, LetterKind, RecipientKind, Referral, SendMethod
from ketaclinic.letters.services.letters import letter_draft, letter_send, letter_sign
from ketaclinic.letters.services.recipients import recipient_add
from ketaclinic.letters.services.referrals import referral_record
from ketaclinic.patients.models import Patient
from ketaclinic.web.demo.people import Staff

REFERRED_INQUIRY = "Toni Demo-Vance"


def _referral_pdf() -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creator("KetaClinic demo")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    for line in (
        "Demo Street Family Practice (synthetic)",
        "",
        "Dear colleague,",
        "Please assess this patient for ketamine therapy: generalized anxiety disorder,",
        "no lasting benefit from sertraline (12 months) or CBT (12 sessions).",
        "",
        "Dr Gail Demo-Greene, GP",
    ):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def letters_ensure(*, staff: Staff, today: date) -> None:
    """Once: the referral (on its inquiry) and pat's signed letter."""
    inquiry = Inquiry.objects.filter(name=REFERRED_INQUIRY).first()
    if inquiry is not None and not Referral.objects.filter(inquiry=inquiry).exists():
        referral_record(
            acting_user=staff.cleo,
            inquiry=inquiry,
            referrer_name="Dr Gail Demo-Greene",
            referrer_role="gp",
            referrer_organisation="Demo Street Family Practice",
            referrer_email="gp@practice.example",
            reason="Generalized anxiety disorder; no lasting benefit from an SSRI and CBT.",
            received_on=today,
            letter=_referral_pdf(),
            letter_name="GP referral.pdf",
        )
    patient = Patient.objects.filter(user_account__username="pat").first()
    if patient is None or Letter.objects.filter(patient=patient).exists():
        return
    recipient = recipient_add(
        acting_user=staff.ada,
        patient=patient,
        kind=RecipientKind.GP,
        name="Dr Hal Demo-Moss",
        organisation="Riverside Demo Surgery",
        email="hal.moss@surgery.example",
        address="2 Example Road\nTestville",
    )
    letter = letter_draft(
        acting_user=staff.ada, patient=patient, kind=LetterKind.INDUCTION, recipient=recipient
    )
    letter = letter_sign(acting_user=staff.ada, letter=letter)
    letter_send(acting_user=staff.ada, letter=letter, method=SendMethod.PRINT)
