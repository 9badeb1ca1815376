"""The chart step forms' fields, written in Python with exactly the HTML of
``infusions/_step_fields.html`` (the reference: ``infusions/tests/test_step_fields.py`` renders
both for every step form, with and without errors, and compares them).

Why: the chart shows four or five step forms on every view; their field rows through the
template engine (a loop, a dozen lookups and conditions per field) were about a quarter of the
chart's template time (bench/README.md, the page benchmark)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ketaclinic.lib.form_renderer import escape_text

register = template.Library()


def _e(value: Any) -> str:
    return escape_text(value)


def _field(field: Any) -> str:
    widget = str(field)  # the bound field's widget, rendered by the form's renderer
    label, for_id, name = _e(field.label), _e(field.id_for_label), _e(field.name)
    if field.widget_type == "checkbox":
        labelled = f'<label for="{for_id}">{widget} {label}</label>\n  '
    else:
        labelled = f'<label for="{for_id}">{label}</label>{widget}'
    errors = field.errors
    shown_errors = (
        f'<ul class="errorlist" id="{_e(field.auto_id)}_errors" role="alert">'
        + "".join(f"<li>{_e(error)}</li>" for error in errors)
        + "</ul>"
        if errors
        else ""
    )
    help_text = field.help_text
    shown_help = (
        f'<small class="field-help" id="{_e(field.auto_id)}_helptext">{_e(help_text)}</small>'
        if help_text
        else ""
    )
    return (
        f'\n<div class="field field-{name}">\n  {labelled}\n  {shown_errors}\n  {shown_help}'
        "\n</div>\n"
    )


@register.simple_tag(takes_context=True)
def step_fields(context: template.Context) -> SafeString:
    """The form's refusal (non-field errors) and its visible fields, the override field only
    for who may override (``can_override``)."""
    form = context["form"]
    can_override = context.get("can_override")
    refusal = form.non_field_errors()
    head = (
        f'<ul class="errorlist refusal" role="alert" id="{_e(form.step)}-refusal">'
        + "".join(f"<li>{_e(error)}</li>" for error in refusal)
        + "</ul>"
        if refusal
        else ""
    )
    fields = "".join(
        _field(field)
        for field in form.visible_fields()
        if field.name != form.override_field or can_override
    )
    # mark_safe: every value above is escaped; the widgets are the renderer's safe HTML.
    return mark_safe(f"{head}\n{fields}\n")  # noqa: S308
