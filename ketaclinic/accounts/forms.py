"""Forms of the administrator's staff-account pages. They shape input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from ketaclinic.accounts.roles import STAFF_ROLES, Role
from ketaclinic.lib.forms import CheckedTextForm

STAFF_ROLE_CHOICES = [(r.value, r.label) for r in Role if r in STAFF_ROLES]


def _reason(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label="Reason",
        max_length=2000,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the change in the account's history and the audit trail.",
    )


class _TwoPasswords(CheckedTextForm, forms.Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters, not a common or all-digit password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class StaffUserForm(_TwoPasswords):
    person_names = frozenset({"first_name", "last_name"})
    username = forms.CharField(label="Username", max_length=150)
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="E-mail", required=False)
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLE_CHOICES)

    field_order = ["username", "first_name", "last_name", "email", "role", "password1", "password2"]


class RoleForm(CheckedTextForm, forms.Form):
    role = forms.ChoiceField(label="New role", choices=STAFF_ROLE_CHOICES)
    reason = _reason()


class PasswordSetForm(_TwoPasswords):
    reason = _reason()


class ReasonForm(CheckedTextForm, forms.Form):
    reason = _reason()
