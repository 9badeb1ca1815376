"""The forms of the referral and letter pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from ketaclinic.letters.models import LetterKind, Recipient, RecipientKind, ReferrerRole, SendMethod
from ketaclinic.letters.services.referrals import REFERRAL_MAX_BYTES
from ketaclinic.lib.forms import CheckedTextForm


class ReferralForm(CheckedTextForm, forms.Form):
    person_names = frozenset({"referrer_name"})
    referrer_name = forms.CharField(label="Referrer's name", max_length=200)
    referrer_role = forms.ChoiceField(label="Their role", choices=ReferrerRole.choices)
    referrer_organisation = forms.CharField(
        label="Practice or organisation", max_length=200, required=False
    )
    referrer_email = forms.EmailField(label="Their e-mail", required=False)
    referrer_phone = forms.CharField(label="Their phone", max_length=40, required=False)
    referrer_address = forms.CharField(
        label="Postal address",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reason = forms.CharField(
        label="Reason for referral",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    received_on = forms.DateField(
        label="Received on",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    letter = forms.FileField(
        label="Their letter (PDF, at most 5 MB)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )

    def clean_letter(self) -> Any:
        upload = self.cleaned_data.get("letter")
        if upload is not None and upload.size > REFERRAL_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return upload


class RecipientForm(CheckedTextForm, forms.Form):
    person_names = frozenset({"name"})
    kind = forms.ChoiceField(label="Who they are", choices=RecipientKind.choices)
    name = forms.CharField(label="Name", max_length=200)
    organisation = forms.CharField(label="Practice or organisation", max_length=200, required=False)
    email = forms.EmailField(label="E-mail", required=False)
    address = forms.CharField(
        label="Postal address",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _recipient_label(recipient: Recipient) -> str:
    where = f", {recipient.organisation}" if recipient.organisation else ""
    return f"{recipient.name} ({recipient.get_kind_display()}{where})"


class DraftForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of letter", choices=LetterKind.choices)
    recipient = forms.ModelChoiceField(label="To", queryset=Recipient.objects.none())

    def __init__(self, *args: Any, recipients: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Recipient.objects.filter(pk__in=[r.pk for r in recipients])
        field.label_from_instance = _recipient_label  # type: ignore[method-assign,assignment]


class LetterEditForm(CheckedTextForm, forms.Form):
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(
        label="Text of the letter",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text="The scores table and your signature are added below the text.",
    )


class SendForm(forms.Form):
    method = forms.ChoiceField(
        label="How",
        choices=[
            (SendMethod.EMAIL, "By e-mail, the signed PDF attached"),
            (SendMethod.PRINT, "Printed (posted or handed over)"),
        ],
        widget=forms.RadioSelect,
        initial=SendMethod.EMAIL,
    )
    to_email = forms.EmailField(
        label="E-mail address", required=False, help_text="Empty: the recipient's address."
    )


class TemplateForm(CheckedTextForm, forms.Form):
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(
        label="Text", max_length=10_000, widget=forms.Textarea(attrs={"rows": 14})
    )
    note = forms.CharField(label="What changed (for the record)", max_length=500, required=False)
