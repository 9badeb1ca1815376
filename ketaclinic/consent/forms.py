"""The form of the consent signing pages (the tablet and the single-use link)."""

from __future__ import annotations

from django import forms

from ketaclinic.consent.services import MAX_SIGNATURE_CHARS
from ketaclinic.lib.forms import CheckedTextForm


class ConsentSignForm(CheckedTextForm, forms.Form):
    person_names = frozenset({"signed_name"})
    signed_name = forms.CharField(label="Your full name", max_length=200)
    signature = forms.CharField(
        label="Your signature",
        max_length=MAX_SIGNATURE_CHARS,
        widget=forms.HiddenInput(attrs={"id": "signature-data"}),
        error_messages={"required": "Draw your signature in the box."},
    )
    agree = forms.BooleanField(
        label="I have read the document above, I could ask questions, and I agree to it.",
        error_messages={"required": "Tick the box to confirm that you agree."},
    )
