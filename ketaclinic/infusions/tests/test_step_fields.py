"""The chart's step fields written in Python (templatetags/step_fields.py) are the template's
(``infusions/_step_fields.html``) byte for byte: every step form, empty and with errors, with
and without the override field."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms import Form
from django.template import Context, Template
from django.template.loader import get_template

from ketaclinic.infusions import forms as chart_forms

TAG = Template("{% load step_fields %}{% step_fields %}")


def _step_forms() -> list[type[chart_forms.StepForm]]:
    return [
        cls
        for cls in vars(chart_forms).values()
        if isinstance(cls, type) and issubclass(cls, chart_forms.StepForm)
    ]


def _make(cls: type[chart_forms.StepForm], data: dict[str, Any] | None) -> Form:
    if cls is chart_forms.ConfirmForm:
        return cls(data, step="check_in")
    if cls is chart_forms.AlertAcknowledgeForm:
        return cls(data, alert_id=7)
    return cls(data)


@pytest.mark.parametrize("cls", _step_forms(), ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "data", [None, {}, {"note": "<b>x</b> & y"}], ids=["empty", "bound", "odd"]
)
@pytest.mark.parametrize("can_override", [False, True])
def test_the_python_fields_are_the_templates(
    cls: type[chart_forms.StepForm], data: dict[str, Any] | None, can_override: bool
) -> None:
    form = _make(cls, data)
    if data is not None:
        form.is_valid()
        form.add_error(None, "Refused: <the reason> & more")
    reference = get_template("infusions/_step_fields.html").render(
        {"form": form, "can_override": can_override}
    )
    written = TAG.render(Context({"form": form, "can_override": can_override}))
    assert written == reference
    assert form.visible_fields() == [] or "<label" in written


def test_every_step_form_is_compared() -> None:
    assert len(_step_forms()) >= 14
