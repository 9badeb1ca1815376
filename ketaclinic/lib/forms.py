"""Form helpers shared by the apps' pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError

from ketaclinic.lib.text import TextKind, TextRefused, text_checked


def service_errors_onto(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """A service's `ValidationError` beside the fields it names (`aliases`: the service's field
    name to the form's); what names no field of the form goes above it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, messages in exc.message_dict.items():
        field = (aliases or {}).get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def text_kind(name: str, field: forms.Field, person_names: frozenset[str]) -> TextKind | None:
    """How a form field's text is checked (``ketaclinic.lib.text``), or None if it is not
    free text a person typed (choices, dates, passwords, hidden tokens)."""
    if not isinstance(field, forms.CharField) or isinstance(
        field.widget, forms.PasswordInput | forms.HiddenInput
    ):
        return None
    if "password" in name or "totp" in name or "token" in name:
        return None  # secrets are compared as typed, never normalised
    if name in person_names:
        return "name"
    return "free" if isinstance(field.widget, forms.Textarea) else "line"


class CheckedTextForm(forms.BaseForm):
    """Every text field a person types is NFC-normalised and checked (issue 18 item 5):
    control, invisible-format and direction-override characters are refused beside the field;
    the fields in ``person_names`` must also contain a letter. Put it first among the bases."""

    person_names: ClassVar[frozenset[str]] = frozenset()

    def _clean_fields(self) -> None:
        super()._clean_fields()  # type: ignore[misc]  # BaseForm's own step, run first
        for name, field in self.fields.items():
            value: Any = self.cleaned_data.get(name)
            kind = text_kind(name, field, self.person_names)
            if kind is None or not isinstance(value, str) or not value:
                continue
            try:
                self.cleaned_data[name] = text_checked(value, kind)
            except TextRefused as exc:
                self.add_error(name, str(exc))
