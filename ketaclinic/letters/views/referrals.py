"""Referrals on an inquiry: the list and the form, and the referrer's letter (PDF)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ketaclinic.accounts.access import require
from ketaclinic.intake import selectors as intake_selectors
from ketaclinic.intake.models import Inquiry
from ketaclinic.letters import selectors
from ketaclinic.letters.forms import ReferralForm
from ketaclinic.letters.models import Referral
from ketaclinic.letters.services.referrals import referral_record
from ketaclinic.letters.views import pdf_response
from ketaclinic.lib.forms import service_errors_onto


@login_required
@require_http_methods(["GET", "POST"])
def inquiry_referrals(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    require(request.user, "referral.manage")
    try:
        inquiry = intake_selectors.inquiry_get_for_user(request.user, inquiry_id)
    except Inquiry.DoesNotExist:
        raise Http404 from None
    form = ReferralForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            upload = data.pop("letter", None)
            try:
                referral_record(
                    acting_user=request.user,
                    inquiry=inquiry,
                    letter=upload.read() if upload is not None else None,
                    letter_name=upload.name if upload is not None else "",
                    **data,
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, "Referral recorded.")
                return redirect("letters:inquiry_referrals", inquiry_id=inquiry.pk)
        status = 422
    context = {
        "inquiry": inquiry,
        "referrals": selectors.referrals_for_inquiry(request.user, inquiry),
        "form": form,
    }
    return render(request, "letters/inquiry_referrals.html", context, status=status)


@login_required
@require_GET
def referral_pdf(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    """The referrer's letter, for staff; audited."""
    try:
        referral = selectors.referral_get_for_user(request.user, referral_id)
    except Referral.DoesNotExist:
        raise Http404 from None
    if referral.letter_pdf is None:
        raise Http404
    return pdf_response(bytes(referral.letter_pdf), f"referral-{referral.pk}.pdf")
