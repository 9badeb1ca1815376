"""The Python renderer writes the same HTML as Django's widget templates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from ketaclinic.lib.form_renderer import InputsInPython


class Everything(forms.Form):
    text = forms.CharField(max_length=20, help_text="Help & <advice>")
    optional = forms.CharField(required=False)
    number = forms.IntegerField(min_value=0, max_value=300)
    decimal = forms.DecimalField(max_digits=5, decimal_places=1, required=False)
    email = forms.EmailField(required=False)
    when = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    tick = forms.BooleanField(required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    choice = forms.ChoiceField(choices=[("a", "A & B"), ("c", "<C>")], required=False)
    grouped = forms.ChoiceField(
        choices=[("Group & <one>", [(1, "One"), (2, "Two")]), ("", "None"), (3, "Three")],
        required=False,
    )
    several = forms.MultipleChoiceField(choices=[("p", "P"), ("q", "Q")], required=False)
    many = forms.MultipleChoiceField(
        choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple, required=False
    )


CASES: list[tuple[dict[str, Any] | None, dict[str, Any]]] = [
    (None, {}),
    (
        None,
        {
            "text": 'a "quoted" <b>',
            "number": 120,
            "decimal": Decimal("72.5"),
            "when": datetime(2026, 12, 3, 9, 5, tzinfo=UTC),
            "tick": True,
            "hidden": "x&y",
            "note": "line one\n<script>",
            "choice": "c",
            "grouped": 2,
            "several": ["p", "q"],
        },
    ),
    ({"text": "", "number": "abc", "tick": "on", "note": "", "many": ["y"]}, {}),
]


@pytest.mark.parametrize(("data", "initial"), CASES)
def test_each_widget_is_written_as_the_templates_write_it(
    data: dict[str, Any] | None, initial: dict[str, Any]
) -> None:
    ours = Everything(data, initial=initial, renderer=InputsInPython())
    theirs = Everything(data, initial=initial, renderer=DjangoTemplates())
    ours.fields["number"].widget.attrs.update({"autofocus": True, "inputmode": "numeric"})
    theirs.fields["number"].widget.attrs.update({"autofocus": True, "inputmode": "numeric"})
    ours.fields["text"].widget.attrs["disabled"] = False
    theirs.fields["text"].widget.attrs["disabled"] = False
    for name in Everything.base_fields:
        assert str(ours[name]) == str(theirs[name]), name
    assert ours.as_div() == theirs.as_div()
