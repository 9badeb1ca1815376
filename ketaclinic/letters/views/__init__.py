"""Pages of the letters app: referrals on an inquiry (``referrals``), the patient's letters
(``letters``) and the administrator's templates (``setup``)."""

from __future__ import annotations

from django.http import HttpResponse


def pdf_response(content: bytes, name: str) -> HttpResponse:
    """A PDF download: never cached, never sniffed, a sanitised name (no patient data)."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
