"""Every portal page is rendered with the clinic's name and phone (the footer, the help)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def portal_render(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    full = {
        "clinic_name": settings.KETACLINIC_CLINIC_NAME,
        "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
        **(context or {}),
    }
    return render(request, template, full, status=status)
