"""Forms of intake's pipeline pages: status change, contact attempt, conversion to a patient."""

from __future__ import annotations

from django import forms

from ketaclinic.intake.models import InquiryStatus
from ketaclinic.intake.models_pipeline import AttemptMethod, AttemptOutcome
from ketaclinic.patients.models import SexAtBirth

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FOLLOW_UP_HELP = "Shown on the board from that day on. Leave empty for no follow-up."


def _follow_up_field() -> forms.DateField:
    return forms.DateField(
        label="Follow up on", required=False, widget=_DATE, help_text=FOLLOW_UP_HELP
    )


def _note_field() -> forms.CharField:
    return forms.CharField(
        label="Note (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=InquiryStatus.choices)
    note = _note_field()
    follow_up_on = _follow_up_field()


class ContactAttemptForm(forms.Form):
    method = forms.ChoiceField(label="How", choices=AttemptMethod.choices)
    outcome = forms.ChoiceField(label="Outcome", choices=AttemptOutcome.choices)
    note = _note_field()
    follow_up_on = _follow_up_field()


class ConversionForm(forms.Form):
    """The patient record's fields: prefilled from the inquiry, the rest asked for."""

    given_name = forms.CharField(label="Given name", max_length=100)
    family_name = forms.CharField(label="Family name", max_length=100)
    birth_date = forms.DateField(label="Birth date", widget=_DATE)
    sex_at_birth = forms.ChoiceField(
        label="Sex at birth",
        choices=[("", "---------"), *SexAtBirth.choices],
        help_text="As recorded for clinical reference ranges.",
    )
    email = forms.EmailField(label="E-mail", max_length=254, required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
