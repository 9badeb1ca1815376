"""The reply form of a thread page, the patient's and the staff's: read the post, send it,
put the service's refusals onto the form."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.template.defaultfilters import filesizeformat

from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.messaging.forms import ReplyForm
from ketaclinic.messaging.models import Thread
from ketaclinic.messaging.services import threads
from ketaclinic.messaging.services.attachments import max_bytes


def reply_posted(request: HttpRequest, thread_id: UUID, link: str) -> tuple[ReplyForm, bool]:
    """The page's reply form, and whether a posted reply was sent (``link``: where the other
    side reads it). A thread the user may not see answers 404."""
    posted = request.method == "POST"
    form = ReplyForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        size_label=filesizeformat(max_bytes()),
    )
    if not (posted and form.is_valid()):
        return form, False
    try:
        threads.message_reply(
            acting_user=request.user,
            thread_id=thread_id,
            body=form.cleaned_data["body"],
            files=form.cleaned_data["attachment"],
            link=link,
        )
    except Thread.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        service_errors_onto(form, exc)
        return form, False
    return form, True
