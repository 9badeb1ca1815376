from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ketaclinic.accounts.access import user_role
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.lib.forms import CheckedTextForm
from ketaclinic.portal.models import LanguagePreference


class WelcomePasswordForm(SetPasswordForm):  # type: ignore[type-arg]  # not subscriptable at runtime
    """Choose a password: Django's own form (the validators, the two fields)."""

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = _("Choose a password")
        self.fields["new_password2"].label = _("Type it again")


class RideForm(CheckedTextForm, forms.Form):
    person_names = frozenset({"escort_name"})

    escort_name = forms.CharField(
        label=_("Who is taking you home? (optional)"), max_length=100, required=False
    )
    confirm = forms.BooleanField(
        label=_(
            "Someone will take me home after this session, and I will not drive until tomorrow."
        ),
        required=True,
        error_messages={"required": _("Tick the box to confirm.")},
    )


class ContactForm(CheckedTextForm, forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    emergency_contact = forms.CharField(
        label=_("Emergency contact (name, how they know you, phone)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AccountLanguagePasswordResetForm(PasswordResetForm):
    """Django's reset form, with each e-mail in its account's language: a patient's kept
    language (else the page's, which they chose), staff English (as their pages)."""

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        context = kwargs.get("context", args[2] if len(args) > 2 else {})
        language = _account_language(context.get("user"))
        with translation.override(language or translation.get_language()):
            super().send_mail(*args, **kwargs)


def _account_language(user: Any) -> str:
    if user is None:
        return ""
    if user_role(user) != Role.PATIENT:
        return "en"
    found = (
        LanguagePreference.objects.filter(patient_id=user.patient_id)
        .values_list("language", flat=True)
        .first()
    )
    return found or ""
