"""The form of the consent signing pages (the tablet and the single-use link)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ketaclinic.consent.services import MAX_SIGNATURE_CHARS
from ketaclinic.lib.forms import CheckedTextForm


class ConsentSignForm(CheckedTextForm, forms.Form):
    person_names = frozenset({"signed_name"})
    signed_name = forms.CharField(label=_("Your full name"), max_length=200)
    signature = forms.CharField(
        label=_("Your signature"),
        max_length=MAX_SIGNATURE_CHARS,
        widget=forms.HiddenInput(attrs={"id": "signature-data"}),
        error_messages={"required": _("Draw your signature in the box.")},
    )
    agree = forms.BooleanField(
        label=_("I have read the document above, I could ask questions, and I agree to it."),
        error_messages={"required": _("Tick the box to confirm that you agree.")},
    )


class ConsentVersionForm(CheckedTextForm, forms.Form):
    """A new version of a consent document (the stored versions are never edited)."""

    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(
        label="Text of the document",
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="What the patient reads and signs. Blank lines separate paragraphs.",
    )
    effective_from = forms.DateField(
        label="In use from",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    required = forms.BooleanField(
        label="Required: a course may start only when the patient signed this version",
        required=False,
    )
