from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# A text box for "HH:MM": a browser's time picker shows 12-hour times in an en-US browser, and
# the clinic's times are 24-hour.
_CLOCK = {"inputmode": "numeric", "pattern": "[0-2][0-9]:[0-5][0-9]", "autocomplete": "off"}


class PreferenceForm(forms.Form):
    email = forms.BooleanField(required=False, label=_("By e-mail"))
    sms = forms.BooleanField(required=False, label=_("By text message (SMS)"))
    quiet_start = forms.TimeField(
        required=False,
        label=_("Quiet from"),
        widget=forms.TimeInput(attrs=_CLOCK | {"placeholder": "21:00"}, format="%H:%M"),
        help_text=_(
            "No reminders between these times (clinic time, 24-hour, e.g. 21:00). "
            "Leave both empty for none."
        ),
    )
    quiet_end = forms.TimeField(
        required=False,
        label=_("Quiet until"),
        widget=forms.TimeInput(attrs=_CLOCK | {"placeholder": "08:00"}, format="%H:%M"),
    )

    def __init__(self, *args: Any, has_email: bool, has_phone: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_email, self.has_phone = has_email, has_phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            raise forms.ValidationError(_("Give both times, or leave both empty."))
        if data.get("email") and not self.has_email:
            self.add_error("email", _("Add an e-mail address in My details first."))
        if data.get("sms") and not self.has_phone:
            self.add_error("sms", _("Add a phone number in My details first."))
        return data


class HandledForm(forms.Form):
    """Staff take a reminder off the list: what they did, in a few words."""

    note = forms.CharField(
        max_length=200,
        label="What was done",
        widget=forms.TextInput(attrs={"placeholder": "e.g. phoned, confirmed for Tuesday"}),
    )
