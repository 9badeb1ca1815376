"""The self-screen's words from the instruments' data (topics, bands, cut-offs) in the
visitor's language: ``{{ result.band_phrase|in_words }}``. The data stays English (it is what
is stored and scored); only what the visitor reads is translated. A phrase not listed here
shows as it is."""

from __future__ import annotations

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

register = template.Library()

WORDS: dict[str, Promise] = {
    "anxiety": _("anxiety"),
    "depression": _("depression"),
    "none to minimal": _("none to minimal"),
    "minimal": _("minimal"),
    "mild": _("mild"),
    "moderate": _("moderate"),
    "moderately severe": _("moderately severe"),
    "severe": _("severe"),
    "10 or more (screen positive)": _("10 or more (screen positive)"),
}


@register.filter
def in_words(phrase: str) -> str:
    return str(WORDS.get(str(phrase), phrase))
