"""The patient's message pages in the portal (its layout, its rules): a signed-in patient
only (staff get 403, theirs is the inbox), their own threads only (another's id: 404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import user_can
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.messaging import selectors
from ketaclinic.messaging.forms import NewThreadForm
from ketaclinic.messaging.models import Attachment, Thread
from ketaclinic.messaging.services import threads
from ketaclinic.messaging.services.attachments import max_bytes
from ketaclinic.messaging.views.files import attachment_response
from ketaclinic.messaging.views.replies import reply_posted

View = Callable[..., HttpResponse]


def patient_page(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_can(request.user, "message.own"):
            raise PermissionDenied("message.own")
        return view(request, *args, **kwargs)

    return wrapped


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    full = {
        "clinic_name": settings.KETACLINIC_CLINIC_NAME,
        "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
        "tab": "messages",
        **context,
    }
    return render(request, template, full, status=status)


def _inbox_link(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("messaging:inbox"))


@patient_page
def thread_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request, "messaging/portal_list.html", {"threads": selectors.own_threads(request.user)}
    )


@patient_page
@require_http_methods(["GET", "POST"])
def thread_new(request: HttpRequest) -> HttpResponse:
    size = filesizeformat(max_bytes())
    posted = request.method == "POST"
    form = NewThreadForm(
        request.POST if posted else None, request.FILES if posted else None, size_label=size
    )
    if posted and form.is_valid():
        try:
            sent = threads.thread_start(
                acting_user=request.user,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachment"],
                inbox_link=_inbox_link(request),
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            flash.success(request, _("Your message was sent to your care team."))
            return redirect("portal:message_thread", thread_id=sent.thread.pk)
    return _render(
        request, "messaging/portal_new.html", {"form": form}, status=422 if posted else 200
    )


@patient_page
@require_http_methods(["GET", "POST"])
def thread_page(request: HttpRequest, thread_id: UUID) -> HttpResponse:
    try:
        page = selectors.thread_for_user(request.user, thread_id)
    except Thread.DoesNotExist:
        raise Http404 from None
    form, sent = reply_posted(request, page.thread.pk, _inbox_link(request))
    if sent:
        flash.success(request, _("Your reply was sent."))
        return redirect("portal:message_thread", thread_id=page.thread.pk)
    threads.thread_mark_read(acting_user=request.user, thread=page.thread)
    context = {"page": page, "form": form, "support": page.urgent}
    return _render(
        request,
        "messaging/portal_thread.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@patient_page
def attachment(request: HttpRequest, attachment_id: UUID) -> HttpResponse:
    try:
        found = selectors.attachment_for_user(request.user, attachment_id)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return attachment_response(found)
