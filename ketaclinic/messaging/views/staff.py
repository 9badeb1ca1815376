"""The care team's pages: the inbox, a thread with the reply form and assignment, the
download of an attachment, the administrator's urgent-word list. Staff only: a patient gets
403 on the inbox and 404 on a thread's pages (their threads are in the portal)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import require, staff_page_only, user_can
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.messaging import selectors
from ketaclinic.messaging.forms import (
    AssignForm,
    StaffNewThreadForm,
    UrgentWordsForm,
)
from ketaclinic.messaging.models import Attachment, Thread
from ketaclinic.messaging.selectors import InboxView
from ketaclinic.messaging.services import threads, words
from ketaclinic.messaging.services.attachments import max_bytes
from ketaclinic.messaging.views.files import attachment_response
from ketaclinic.messaging.views.replies import reply_posted
from ketaclinic.patients.models import Patient


def _assign_choices() -> list[tuple[str, str]]:
    return [
        (str(u.pk), f"{u.get_full_name() or u.get_username()} ({u.role_enum.label})")
        for u in selectors.care_team()
    ]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    require(request.user, "message.staff")
    try:
        view = InboxView(request.GET.get("show", InboxView.ALL.value))
    except ValueError:
        view = InboxView.ALL
    rows = selectors.inbox(request.user, view)
    context = {
        "rows": rows,
        "view": view,
        "views": list(InboxView),
        "patient": None,
        "can_edit_words": user_can(request.user, "message.words_edit"),
    }
    return render(request, "messaging/inbox.html", context)


@login_required
def patient_threads(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """One patient's threads (linked from their staff page)."""
    staff_page_only(request.user)
    require(request.user, "message.staff")
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404
    rows = selectors.inbox(request.user, InboxView.ALL, patient_id=patient.pk)
    context = {"rows": rows, "view": InboxView.ALL, "views": [], "patient": patient}
    return render(request, "messaging/inbox.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def thread_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Write first to a patient (from their messages page)."""
    staff_page_only(request.user)
    require(request.user, "message.staff")
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404
    posted = request.method == "POST"
    form = StaffNewThreadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        size_label=filesizeformat(max_bytes()),
    )
    if posted and form.is_valid():
        try:
            sent = threads.thread_start_to_patient(
                acting_user=request.user,
                patient_id=patient.pk,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachment"],
                portal_link=request.build_absolute_uri(reverse("portal:messages")),
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            flash.success(request, "Message sent. The patient is told by e-mail, without its text.")
            return redirect("messaging:thread", thread_id=sent.thread.pk)
    status = 422 if posted else 200
    context = {"patient": patient, "form": form}
    return render(request, "messaging/staff_new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def thread_page(request: HttpRequest, thread_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    require(request.user, "message.staff")
    try:
        page = selectors.thread_for_user(request.user, thread_id)
    except Thread.DoesNotExist:
        raise Http404 from None
    link = request.build_absolute_uri(reverse("portal:messages"))
    form, sent = reply_posted(request, page.thread.pk, link)
    if sent:
        flash.success(request, "Reply sent. The patient is told by e-mail, without its text.")
        return redirect("messaging:thread", thread_id=page.thread.pk)
    threads.thread_mark_read(acting_user=request.user, thread=page.thread)
    assign = AssignForm(initial={"assignee": page.thread.assigned_to_id}, choices=_assign_choices())
    context = {"page": page, "form": form, "assign": assign}
    status = 422 if request.method == "POST" else 200
    return render(request, "messaging/thread.html", context, status=status)


@login_required
@require_POST
def thread_assign(request: HttpRequest, thread_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    require(request.user, "message.staff")
    form = AssignForm(request.POST, choices=_assign_choices())
    if not form.is_valid():
        flash.error(request, "Choose a member of the care team.")
        return redirect("messaging:thread", thread_id=thread_id)
    try:
        thread = threads.thread_assign(
            acting_user=request.user,
            thread_id=thread_id,
            assignee_id=form.cleaned_data["assignee"],
        )
    except Thread.DoesNotExist:
        raise Http404 from None
    except ValidationError:
        flash.error(request, "Choose a member of the care team.")
        return redirect("messaging:thread", thread_id=thread_id)
    who = thread.assigned_to
    flash.success(
        request,
        f"Assigned to {who.get_full_name() or who.get_username()}." if who else "Unassigned.",
    )
    return redirect("messaging:thread", thread_id=thread.pk)


@login_required
@require_POST
def thread_urgent_clear(request: HttpRequest, thread_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    require(request.user, "message.staff")
    try:
        threads.thread_urgent_clear(acting_user=request.user, thread_id=thread_id)
    except Thread.DoesNotExist:
        raise Http404 from None
    flash.success(
        request,
        "No longer marked urgent. The safety flag stays on the record until a clinician "
        "acknowledges it there.",
    )
    return redirect("messaging:thread", thread_id=thread_id)


@login_required
def attachment(request: HttpRequest, attachment_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    require(request.user, "message.staff")
    try:
        found = selectors.attachment_for_user(request.user, attachment_id)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return attachment_response(found)


@login_required
@require_http_methods(["GET", "POST"])
def urgent_words(request: HttpRequest) -> HttpResponse:
    require(request.user, "message.words_edit")
    current = words.urgent_words_current()
    posted = request.method == "POST"
    form = UrgentWordsForm(
        request.POST if posted else None, initial={"phrases": "\n".join(current.phrases)}
    )
    if posted and form.is_valid():
        try:
            row = words.urgent_words_publish(
                acting_user=request.user,
                phrases=form.cleaned_data["phrases"].splitlines(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            flash.success(request, f"Version {row.version} of the list is in use.")
            return redirect("messaging:urgent_words")
    context = {"form": form, "current": current}
    return render(request, "messaging/urgent_words.html", context, status=422 if posted else 200)
