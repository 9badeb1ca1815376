"""Forms for the rule-set editor and the consent signing pages."""

from __future__ import annotations

from django import forms

from ketaclinic.intake.consent_services import MAX_SIGNATURE_CHARS


class RuleSetForm(forms.Form):
    rules_json = forms.CharField(
        label="Rule set (JSON)",
        max_length=200_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "mono", "spellcheck": "false"}),
        help_text='Give the edited rule set a new "version". Proposals already made keep the '
        "version they were made with.",
    )
    note = forms.CharField(
        label="What changed, and on what authority",
        max_length=500,
        help_text="E.g. the medical director's decision of 2026-01-05.",
    )


class ConsentSignForm(forms.Form):
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
