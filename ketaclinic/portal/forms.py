from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from ketaclinic.accounts.models import User
from ketaclinic.lib.forms import CheckedTextForm


class WelcomePasswordForm(SetPasswordForm):  # type: ignore[type-arg]  # not subscriptable at runtime
    """Choose a password: Django's own form (the validators, the two fields)."""

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Type it again"


class RideForm(CheckedTextForm, forms.Form):
    person_names = frozenset({"escort_name"})

    escort_name = forms.CharField(
        label="Who is taking you home? (optional)", max_length=100, required=False
    )
    confirm = forms.BooleanField(
        label="Someone will take me home after this session, and I will not drive until tomorrow.",
        required=True,
        error_messages={"required": "Tick the box to confirm."},
    )


class ContactForm(CheckedTextForm, forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254, required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    address = forms.CharField(
        label="Address", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    emergency_contact = forms.CharField(
        label="Emergency contact (name, how they know you, phone)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
