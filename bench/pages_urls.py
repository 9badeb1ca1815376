"""The app's URLs plus the page benchmark's floor: a bare Django page that runs one indexed
query (the latest 20 vitals of a session) through the same middleware."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from ketaclinic.infusions.models import VitalsReading


def bare(request: HttpRequest, session_id: UUID) -> HttpResponse:
    rows = list(
        VitalsReading.objects.filter(session_id=session_id)
        .order_by("-at")
        .values_list("at", "systolic_mmhg")[:20]
    )
    return HttpResponse(f"{len(rows)} readings", content_type="text/plain")


urlpatterns = [
    path("bench/bare/<uuid:session_id>/", bare),
    path("", include("ketaclinic.urls")),
]
