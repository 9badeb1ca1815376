from __future__ import annotations

from django import forms

from ketaclinic.lib.forms import CheckedTextForm
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import EDITABLE_FIELDS


class PatientForm(CheckedTextForm, forms.ModelForm[Patient]):
    person_names = frozenset({"given_name", "family_name"})

    class Meta:
        model = Patient
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "address": forms.Textarea(attrs={"rows": 2}),
            "emergency_contact": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "emergency_contact": "Name, relationship and phone.",
            "sex_at_birth": "As recorded for clinical reference ranges.",
        }


class FlagAcknowledgeForm(CheckedTextForm, forms.Form):
    """A clinician's note acknowledging a safety flag (what was done about it)."""

    note = forms.CharField(
        label="Acknowledgement note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What was done: e.g. called the patient, safety plan reviewed.",
    )
