"""Letters: drafted from the template and the record, edited, signed (then frozen), the PDF
stored at signing with the patient, the scores and the signature, sent by e-mail or printed,
every step audited."""

from __future__ import annotations

import hashlib

import pytest
from django.core import mail

from ketaclinic.audit.models import AuditEvent
from ketaclinic.letters.models import Letter, LetterKind, LetterSending, LetterStatus
from ketaclinic.letters.services.letters import (
    LetterSigned,
    letter_draft,
    letter_edit,
    letter_send,
    letter_sign,
    letter_verify,
)
from ketaclinic.letters.services.templates import template_default_restore, template_version_add
from ketaclinic.letters.tests.records import (
    REASON,
    course_make,
    decision_make,
    gp_make,
    signed_letter,
)
from ketaclinic.testing import Clinic, pdf_text

pytestmark = pytest.mark.django_db


def test_the_induction_draft_is_prefilled_with_scores_response_sessions_and_side_effects(
    clinic: Clinic,
) -> None:
    course_make(clinic)
    letter = letter_draft(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        kind=LetterKind.INDUCTION,
        recipient=gp_make(clinic),
    )
    assert letter.status == LetterStatus.DRAFT and letter.template_version == 0
    assert "Dear Dr Hal Moss" in letter.body
    assert "6 sessions" in letter.body
    assert "GAD-7 16 to 3 (remission); PHQ-9 14 to 6 (response)" in letter.body
    assert "nausea (mild)" in letter.body
    rows = {row["measure"]: row for row in letter.facts["scores"]}
    assert (rows["GAD-7"]["baseline"], rows["GAD-7"]["latest"]) == (16, 3)
    assert rows["GAD-7"]["remitted"] is True and rows["PHQ-9"]["remitted"] is False
    assert AuditEvent.objects.filter(object_type="Letter", action="C", patient_id=clinic.pat.pk)


def test_the_evaluation_draft_carries_the_signed_decision_and_its_reasons(clinic: Clinic) -> None:
    decision_make(clinic)
    letter = letter_draft(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        kind=LetterKind.EVALUATION,
        recipient=gp_make(clinic),
    )
    assert "Decision: Eligible" in letter.body
    assert "- Treatment-resistant GAD; no contraindication." in letter.body
    assert f"- {REASON}" in letter.body


def test_the_discharge_draft_says_when_and_why_the_course_ended(clinic: Clinic) -> None:
    course_make(clinic, ended=True)
    letter = letter_draft(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        kind=LetterKind.DISCHARGE,
        recipient=gp_make(clinic),
    )
    assert "Induction complete; care returned to the GP" in letter.body
    assert "{" not in letter.body  # every placeholder filled


def test_the_administrators_template_version_is_used_and_the_default_can_return(
    clinic: Clinic,
) -> None:
    course_make(clinic)
    recipient = gp_make(clinic)
    row = template_version_add(
        acting_user=clinic.users["dana"],
        kind="induction",
        subject="Update on {patient_name}",
        body="Hello {recipient_name}: {outcome_summary}",
    )
    ada = clinic.users["ada"]
    letter = letter_draft(
        acting_user=ada, patient=clinic.pat, kind="induction", recipient=recipient
    )
    assert letter.template_version == row.version == 1
    assert letter.body.startswith("Hello Dr Hal Moss: GAD-7 16 to 3")
    template_default_restore(acting_user=clinic.users["dana"], kind="induction")
    again = letter_draft(acting_user=ada, patient=clinic.pat, kind="induction", recipient=recipient)
    assert again.template_version == 0 and again.body.startswith("Dear Dr Hal Moss")


def test_a_template_with_an_unknown_placeholder_is_refused(clinic: Clinic) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        template_version_add(
            acting_user=clinic.users["dana"], kind="evaluation", subject="x", body="{sessions}"
        )


def test_the_signed_pdf_has_the_letterhead_patient_scores_and_signature(clinic: Clinic) -> None:
    letter = signed_letter(clinic, sent=False)
    assert letter.status == LetterStatus.SIGNED and letter.pdf is not None
    # fpdf2 escapes parentheses in the page stream
    text = pdf_text(bytes(letter.pdf)).replace("\\(", "(").replace("\\)", ")")
    assert "KetaClinic Demo Clinic" in text  # the letterhead (settings' clinic name)
    assert f"Patient: {clinic.pat.display_name}, born {clinic.pat.birth_date:%Y-%m-%d}" in text
    for cell in ("GAD-7", "PHQ-9", "-13", "remission", "response"):
        assert cell in text, cell
    assert "(16 (" in text and "(3 (" in text and "(14 (" in text and "(6 (" in text
    ada = clinic.users["ada"]
    assert f"Signed by: {ada.get_full_name() or ada.get_username()}" in text
    assert "Role: Clinician (prescriber)" in text
    assert letter.snapshot is not None
    assert f"Signed at: {letter.snapshot['signature']['signed_at']}" in text
    assert hashlib.sha256(bytes(letter.pdf)).hexdigest() == letter.pdf_sha256
    assert letter_verify(letter)


def test_a_signed_letter_never_changes(clinic: Clinic) -> None:
    letter = signed_letter(clinic, sent=False)
    before = (letter.body, bytes(letter.pdf or b""), letter.digest)
    with pytest.raises(LetterSigned):
        letter_edit(acting_user=clinic.users["ada"], letter=letter, subject="x", body="changed")
    with pytest.raises(LetterSigned):
        letter_sign(acting_user=clinic.users["ada"], letter=letter)
    response = clinic.client("ada").post(f"/letters/{letter.pk}/", {"subject": "x", "body": "y"})
    assert response.status_code == 409
    letter.refresh_from_db()
    assert (letter.body, bytes(letter.pdf or b""), letter.digest) == before
    # The download serves the stored bytes, not a new rendering.
    served = clinic.client("ben").get(f"/letters/{letter.pk}/pdf/")
    assert served.status_code == 200 and served.content == before[1]


def test_a_letter_altered_in_the_database_no_longer_verifies(clinic: Clinic) -> None:
    letter = signed_letter(clinic, sent=False)
    Letter.objects.filter(pk=letter.pk).update(body="tampered")
    letter.refresh_from_db()
    assert letter.snapshot is not None
    letter.snapshot["content"]["body"] = "tampered"
    assert not letter_verify(letter)


def test_sending_by_email_attaches_the_signed_pdf_and_records_who_when_how_to_whom(
    clinic: Clinic, django_capture_on_commit_callbacks: object
) -> None:
    letter = signed_letter(clinic, sent=False)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        sending = letter_send(acting_user=clinic.users["ada"], letter=letter, method="email")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hal.moss@surgery.example"]
    _name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content == bytes(letter.pdf or b"")
    # the subject and body are a cover note only: the patient is named in the PDF alone
    assert clinic.pat.display_name not in f"{message.subject} {message.body}"
    assert (sending.method, sending.to_name, sending.sent_by) == (
        "email",
        "Dr Hal Moss",
        clinic.users["ada"],
    )
    assert AuditEvent.objects.filter(
        object_type="LetterSending", object_id=str(sending.pk), action="E"
    ).exists()


def test_marking_printed_records_the_postal_address(clinic: Clinic) -> None:
    letter = signed_letter(clinic, sent=False)
    sending = letter_send(acting_user=clinic.users["ada"], letter=letter, method="print")
    assert sending.to_address == "2 Example Road\nTestville"
    assert not mail.outbox


def test_a_draft_is_not_sent(clinic: Clinic) -> None:
    from django.core.exceptions import ValidationError

    course_make(clinic)
    draft = letter_draft(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        kind="induction",
        recipient=gp_make(clinic),
    )
    with pytest.raises(ValidationError):
        letter_send(acting_user=clinic.users["ada"], letter=draft, method="print")
    assert not LetterSending.objects.exists()


def test_only_a_clinician_drafts_and_signs(clinic: Clinic) -> None:
    course_make(clinic)
    recipient = gp_make(clinic)
    for who in ("ben", "cleo", "dana"):
        response = clinic.client(who).post(
            f"/letters/patients/{clinic.pat.pk}/",
            {"draft-kind": "induction", "draft-recipient": recipient.pk},
        )
        assert response.status_code == 403, who
    draft = letter_draft(
        acting_user=clinic.users["ada"], patient=clinic.pat, kind="induction", recipient=recipient
    )
    assert clinic.client("ben").post(f"/letters/{draft.pk}/sign/").status_code == 403
    assert clinic.client("pat").get(f"/letters/{draft.pk}/").status_code == 404
    assert clinic.client("ada").post(f"/letters/{draft.pk}/sign/").status_code == 302
