from __future__ import annotations

from django import forms

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role


class ProtocolVersionForm(forms.Form):
    definition_json = forms.CharField(
        label="Protocol (JSON)",
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "mono", "spellcheck": "false"}),
    )
    source = forms.CharField(
        label="What this version is based on",
        max_length=500,
        help_text="E.g. the medical director's decision of 2026-01-05, or the paper it follows.",
    )


class PresenceForm(forms.Form):
    clinician = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by("username"),
        label="Prescriber",
    )
    from_time = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    to_time = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))
