"""Pages of intake's pipeline: the board, one inquiry (status, contact attempts, follow-up,
spam) and its conversion into a patient record. Writes are POSTs to their own URLs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import require, user_can
from ketaclinic.intake import selectors as pipeline_selectors
from ketaclinic.intake import services as pipeline_services
from ketaclinic.intake.forms import ContactAttemptForm, ConversionForm, StatusChangeForm
from ketaclinic.intake.models import Inquiry
from ketaclinic.intake.rules.pipeline import follow_up_state, name_split
from ketaclinic.lib.forms import service_errors_onto


def _inquiry_or_404(request: HttpRequest, inquiry_id: int) -> Inquiry:
    try:
        return pipeline_selectors.inquiry_get_for_user(request.user, inquiry_id)
    except Inquiry.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def inquiry_board(request: HttpRequest) -> HttpResponse:
    """Due follow-ups first, then the inquiries by status; ``?spam=1`` lists the spam."""
    if request.GET.get("spam") == "1":
        spam = pipeline_selectors.inquiry_spam_list_for_user(request.user)
        return render(request, "intake/inquiry_spam.html", {"inquiries": spam})
    board = pipeline_selectors.inquiry_board_for_user(request.user, today=timezone.localdate())
    return render(request, "intake/inquiry_list.html", {"board": board})


def _detail(
    request: HttpRequest,
    inquiry: Inquiry,
    *,
    status_form: StatusChangeForm | None = None,
    attempt_form: ContactAttemptForm | None = None,
    status: int = 200,
) -> HttpResponse:
    initial = {"follow_up_on": inquiry.follow_up_on}
    context = {
        "inquiry": inquiry,
        "history": pipeline_selectors.inquiry_history(inquiry),
        "follow_up": follow_up_state(inquiry.follow_up_on, inquiry.status, timezone.localdate()),
        "status_form": status_form or StatusChangeForm(initial=initial, prefix="status"),
        "attempt_form": attempt_form or ContactAttemptForm(initial=initial, prefix="attempt"),
        "can_manage": user_can(request.user, "inquiry.manage"),
        "can_convert": user_can(request.user, "patient.create"),
    }
    return render(request, "intake/inquiry_detail.html", context, status=status)


@login_required
@require_GET
def inquiry_detail(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    return _detail(request, _inquiry_or_404(request, inquiry_id))


@login_required
@require_POST
def inquiry_status(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    require(request.user, "inquiry.manage")
    inquiry = _inquiry_or_404(request, inquiry_id)
    form = StatusChangeForm(request.POST, prefix="status")
    if form.is_valid():
        try:
            changed = pipeline_services.inquiry_status_change(
                acting_user=request.user, inquiry=inquiry, **form.cleaned_data
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"Status changed to {changed.get_status_display()}.")
            return redirect("intake:inquiry", inquiry_id=inquiry.pk)
    return _detail(request, inquiry, status_form=form, status=422)


@login_required
@require_POST
def inquiry_attempt(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    require(request.user, "inquiry.manage")
    inquiry = _inquiry_or_404(request, inquiry_id)
    form = ContactAttemptForm(request.POST, prefix="attempt")
    if form.is_valid():
        try:
            pipeline_services.inquiry_contact_log(
                acting_user=request.user, inquiry=inquiry, **form.cleaned_data
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, "Contact attempt logged.")
            return redirect("intake:inquiry", inquiry_id=inquiry.pk)
    return _detail(request, inquiry, attempt_form=form, status=422)


@login_required
@require_POST
def inquiry_spam(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    require(request.user, "inquiry.manage")
    inquiry = _inquiry_or_404(request, inquiry_id)
    is_spam = request.POST.get("is_spam") == "1"
    try:
        pipeline_services.inquiry_spam_set(
            acting_user=request.user, inquiry=inquiry, is_spam=is_spam
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, "Marked as spam." if is_spam else "Not spam: the inquiry is on the board."
        )
    return redirect("intake:inquiry", inquiry_id=inquiry.pk)


def conversion_initial(inquiry: Inquiry) -> dict[str, str]:
    """The patient fields the inquiry already gives."""
    name = name_split(inquiry.name)
    return {
        "given_name": name.given,
        "family_name": name.family,
        "email": inquiry.email,
        "phone": inquiry.phone,
    }


@login_required
@require_http_methods(["GET", "POST"])
def inquiry_convert(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    """A patient record from the inquiry: its name and contact prefilled, the rest asked."""
    require(request.user, "inquiry.manage")
    require(request.user, "patient.create")
    inquiry = _inquiry_or_404(request, inquiry_id)
    if inquiry.patient_id is not None:
        messages.error(request, "This inquiry was already converted into a patient record.")
        return redirect("patients:detail", patient_id=inquiry.patient_id)
    form = ConversionForm(request.POST or None, initial=conversion_initial(inquiry))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                patient = pipeline_services.inquiry_convert(
                    acting_user=request.user, inquiry=inquiry, **form.cleaned_data
                )
            except pipeline_services.AlreadyConverted:
                messages.error(request, "This inquiry was already converted into a patient record.")
                return redirect("intake:inquiry", inquiry_id=inquiry.pk)
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, "Patient record created from the inquiry.")
                return redirect("patients:detail", patient_id=patient.pk)
        status = 422
    return render(
        request, "intake/inquiry_convert.html", {"form": form, "inquiry": inquiry}, status=status
    )
