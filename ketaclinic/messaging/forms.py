"""The message forms. Files are checked by the service (from their bytes), not here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ketaclinic.messaging.services.threads import BODY_MAX

ACCEPT = "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); a list, maybe empty."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachment = MultipleFileField(
        label=_("Attach a file (optional)"),
        required=False,
        help_text=_("A PDF document or a photo (PNG or JPEG), up to %(size)s."),
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args: Any, size_label: str = "10 MB", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        help_text = self.fields["attachment"].help_text
        self.fields["attachment"].help_text = str(help_text) % {"size": size_label}


class NewThreadForm(ReplyForm):
    subject = forms.CharField(label=_("What is it about?"), max_length=120)
    field_order = ["subject", "body", "attachment"]


class StaffNewThreadForm(ReplyForm):
    """Staff write first: the same fields, in the staff's words (staff pages are English)."""

    subject = forms.CharField(label="Subject", max_length=120)
    field_order = ["subject", "body", "attachment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].label = "Message to the patient"
        self.fields["attachment"].label = "Attach a file (optional)"


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label="Assign to", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Nobody (unassigned)"), *choices]


class UrgentWordsForm(forms.Form):
    phrases = forms.CharField(
        label="Urgent words and phrases, one a line",
        widget=forms.Textarea(attrs={"rows": 16}),
    )
    reason = forms.CharField(
        label="Why the list changes", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
