"""`{{ text|clinic_time }}`: a stored UTC instant (snapshot text) in the clinic's zone."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ketaclinic.lib.clinic_time import instant_local_text

register = template.Library()


@register.filter
def clinic_time(text: str | None) -> str:
    return instant_local_text(text, timezone.get_current_timezone())
