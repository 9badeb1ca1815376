"""The download of an attachment: always as a download (never shown inline), with the type
its bytes were checked to be, never cached."""

from __future__ import annotations

from django.http import HttpResponse

from ketaclinic.messaging.models import Attachment


def attachment_response(attachment: Attachment) -> HttpResponse:
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
