"""Where a safety flag came from, in words, for the staff record: ``{{ flag|flag_source }}``."""

from __future__ import annotations

from typing import Final

from django import template
from django.utils import timezone

from ketaclinic.patients.models import SafetyFlag

register = template.Library()

# The source_object_type of a flag, as the record says it.
SOURCES: Final = {
    "Administration": "from a rating scale, recorded {opened}",
    "IncompleteResponse": "from an incomplete rating scale (no total), recorded {opened}",
    "Inquiry": "from the public self-screen sent with inquiry #{id}, answered {opened}",
    "IntegrationNote": "from an integration therapist's signed note, {opened}",
    "Message": "from urgent words in the patient's secure message, sent {opened}",
}


@register.filter
def flag_source(flag: SafetyFlag) -> str:
    opened = f"{timezone.localtime(flag.opened_at):%Y-%m-%d %H:%M}"
    words = SOURCES.get(flag.source_object_type, "opened {opened}")
    return words.format(opened=opened, id=flag.source_object_id)
