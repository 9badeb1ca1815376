"""The patient's letters (staff): referrals received, recipients, letters drafted and signed;
one letter's draft, signing, sending and PDF."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import require, staff_page_only, user_can
from ketaclinic.letters import selectors
from ketaclinic.letters.forms import DraftForm, LetterEditForm, RecipientForm, SendForm
from ketaclinic.letters.models import Letter, LetterStatus
from ketaclinic.letters.printing.letter import letter_pdf_bytes
from ketaclinic.letters.services import letters as letter_services
from ketaclinic.letters.services.recipients import recipient_add
from ketaclinic.letters.views import pdf_response
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user


def _patient(request: HttpRequest, patient_id: UUID) -> Patient:
    staff_page_only(request.user)
    require(request.user, "letter.view")
    try:
        return patient_get_for_user(request.user, patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None


def _letter(request: HttpRequest, letter_id: UUID) -> Letter:
    staff_page_only(request.user)
    try:
        return selectors.letter_get_for_user(request.user, letter_id)
    except Letter.DoesNotExist:
        raise Http404 from None


def _patient_page(
    request: HttpRequest,
    patient: Patient,
    *,
    draft_form: DraftForm | None = None,
    recipient_form: RecipientForm | None = None,
    status: int = 200,
) -> HttpResponse:
    recipients = selectors.recipients_for_patient(request.user, patient)
    # The record's referring provider (free text on the patient) offered as the first recipient.
    suggested = patient.referring_provider if not recipients else ""
    initial = {"kind": "referrer", "name": suggested} if suggested else {}
    context = {
        "patient": patient,
        "referrals": selectors.referrals_for_patient(request.user, patient),
        "recipients": recipients,
        "letters": selectors.letters_for_patient(request.user, patient),
        "draft_form": draft_form or DraftForm(recipients=recipients, prefix="draft"),
        "recipient_form": recipient_form or RecipientForm(prefix="recipient", initial=initial),
        "suggested": suggested,
        "can_draft": user_can(request.user, "letter.draft"),
    }
    return render(request, "letters/patient_letters.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def patient_letters(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _patient(request, patient_id)
    if request.method == "GET":
        return _patient_page(request, patient)
    require(request.user, "letter.draft")
    recipients = selectors.recipients_for_patient(request.user, patient)
    form = DraftForm(request.POST, recipients=recipients, prefix="draft")
    if form.is_valid():
        try:
            letter = letter_services.letter_draft(
                acting_user=request.user,
                patient=patient,
                kind=form.cleaned_data["kind"],
                recipient=form.cleaned_data["recipient"],
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, "Draft ready: check the text, then sign.")
            return redirect("letters:letter", letter_id=letter.pk)
    return _patient_page(request, patient, draft_form=form, status=422)


@login_required
@require_POST
def recipient_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _patient(request, patient_id)
    require(request.user, "letter.draft")
    form = RecipientForm(request.POST, prefix="recipient")
    if form.is_valid():
        try:
            recipient_add(acting_user=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, "Recipient added.")
            return redirect("letters:patient", patient_id=patient.pk)
    return _patient_page(request, patient, recipient_form=form, status=422)


def _letter_page(
    request: HttpRequest,
    letter: Letter,
    *,
    edit_form: LetterEditForm | None = None,
    send_form: SendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    draft = letter.status == LetterStatus.DRAFT
    context: dict[str, Any] = {
        "letter": letter,
        "patient": letter.patient,
        "draft": draft,
        "content": letter_services.letter_content(letter),
        "edit_form": edit_form
        or LetterEditForm(initial={"subject": letter.subject, "body": letter.body}),
        "send_form": send_form or SendForm(initial={"to_email": ""}),
        "sendings": selectors.letter_sendings(request.user, letter),
        "verified": None if draft else letter_services.letter_verify(letter),
        "can_draft": user_can(request.user, "letter.draft"),
        "can_sign": user_can(request.user, "letter.sign"),
    }
    return render(request, "letters/letter.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def letter_detail(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    letter = _letter(request, letter_id)
    if request.method == "GET":
        return _letter_page(request, letter)
    require(request.user, "letter.draft")
    form = LetterEditForm(request.POST)
    if form.is_valid():
        try:
            letter_services.letter_edit(
                acting_user=request.user, letter=letter, **form.cleaned_data
            )
        except letter_services.LetterSigned:
            return _letter_page(request, letter, status=409)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, "Draft saved.")
            return redirect("letters:letter", letter_id=letter.pk)
    return _letter_page(request, letter, edit_form=form, status=422)


@login_required
@require_POST
def letter_sign(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    letter = _letter(request, letter_id)
    require(request.user, "letter.sign")
    edited = LetterEditForm(request.POST) if "body" in request.POST else None
    if edited is not None and not edited.is_valid():
        return _letter_page(request, letter, edit_form=edited, status=422)
    try:
        if edited is not None:  # the text as the clinician sees it, saved before signing
            letter_services.letter_edit(
                acting_user=request.user, letter=letter, **edited.cleaned_data
            )
        letter_services.letter_sign(acting_user=request.user, letter=letter)
    except letter_services.LetterSigned:
        messages.error(request, "This letter is already signed; it cannot change.")
        return _letter_page(request, letter, status=409)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _letter_page(request, letter, status=422)
    messages.success(request, "Letter signed. It can now be sent or printed.")
    return redirect("letters:letter", letter_id=letter.pk)


@login_required
@require_POST
def letter_send(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    letter = _letter(request, letter_id)
    require(request.user, "letter.draft")
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            sending = letter_services.letter_send(
                acting_user=request.user,
                letter=letter,
                method=form.cleaned_data["method"],
                to_email=form.cleaned_data["to_email"] or "",
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"{sending.get_method_display()}: recorded.")
            return redirect("letters:letter", letter_id=letter.pk)
    return _letter_page(request, letter, send_form=form, status=422)


@login_required
@require_GET
def letter_pdf(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """A signed letter: its stored PDF (the bytes signed); a draft: a preview marked DRAFT."""
    letter = _letter(request, letter_id)
    if letter.status == LetterStatus.SIGNED and letter.pdf is not None:
        content = bytes(letter.pdf)
    else:
        content = letter_pdf_bytes(
            letter_services.letter_content(letter), None, created=timezone.now()
        )
    return pdf_response(content, letter_services.letter_file_name(letter))
