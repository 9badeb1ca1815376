"""The forms added beside issue 18 item 5 (staff accounts, series booking and session changes,
monitors) check their text like every other: NFC-normalised, and control, invisible-format and
direction-override characters refused beside the field."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from ketaclinic.accounts.forms import ReasonForm, RoleForm, StaffUserForm
from ketaclinic.courses.forms import SessionReasonForm
from ketaclinic.monitors.forms import DismissForm

OVERRIDE = "Reset\u202e by request"  # a right-to-left override inside a reason
ZERO_WIDTH = "\u200b"


def _refused(form: forms.Form, field: str) -> bool:
    return not form.is_valid() and field in form.errors


@pytest.mark.parametrize(
    ("form_class", "data", "field"),
    [
        (ReasonForm, {"reason": OVERRIDE}, "reason"),
        (RoleForm, {"role": "nurse", "reason": OVERRIDE}, "reason"),
        (SessionReasonForm, {"reason": "Patient ill\x9b"}, "reason"),
    ],
)
def test_reasons_with_hidden_characters_are_refused(
    form_class: type[forms.Form], data: dict[str, Any], field: str
) -> None:
    assert _refused(form_class(data), field)


def test_a_staff_name_of_only_a_zero_width_space_is_refused() -> None:
    form = StaffUserForm(
        {
            "username": "newnurse",
            "first_name": ZERO_WIDTH,
            "last_name": "Okafor",
            "role": "nurse",
            "password1": "a long synthetic password 1",
            "password2": "a long synthetic password 1",
        }
    )
    assert _refused(form, "first_name")


def test_a_staff_name_is_stored_in_nfc_and_passwords_are_left_as_typed() -> None:
    password = "Jose\u0301 synthetic pass 12"
    form = StaffUserForm(
        {
            "username": "jose",
            "first_name": "Jose\u0301",
            "last_name": "Ruiz",
            "role": "nurse",
            "password1": password,
            "password2": password,
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["first_name"] == "Jos\u00e9"
    assert form.cleaned_data["password1"] == password


def test_dismissing_a_monitor_message_checks_its_reason() -> None:
    assert _refused(DismissForm({"reason": OVERRIDE}), "reason")
    # the error names the character; it never echoes the text typed
    assert "\u202e" not in str(DismissForm({"reason": OVERRIDE}).errors)
