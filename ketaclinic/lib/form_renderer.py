"""A form renderer that writes the plain input widgets (``<input>`` of every type, checkbox,
``<textarea>``) and single selects in Python, with the same HTML as Django's widget
templates, and leaves every other widget (radios, multi-widgets) to those templates.

Why: the session chart renders some twenty widgets on every page, and rendering each through
Django's template engine (``input.html`` including ``attrs.html``) was about a fifth of the
chart's time (bench/README.md, the page benchmark). The output is the same as the templates'
(``ketaclinic/lib/tests/test_form_renderer.py`` compares them widget by widget), so a form
can switch renderer without a visible change.
"""

from __future__ import annotations

import html
from typing import Any

from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.formats import localize
from django.utils.html import conditional_escape

_INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "tel",
        "password",
        "search",
        "hidden",
        "date",
        "datetime",
        "time",
        "color",
        "checkbox",
    )
)
_TEXTAREA = "django/forms/widgets/textarea.html"
_SELECT = "django/forms/widgets/select.html"


def escape_text(value: Any) -> str:
    """``conditional_escape(value)`` as text, with a shortcut for a plain ``str`` (never safe
    HTML, never lazy): ``html.escape`` is what Django's ``escape`` runs, without the lazy-text
    check around it (a fifth of the chart's escaping time)."""
    if type(value) is str:
        return html.escape(value)
    return str(conditional_escape(value))


def shown_text(value: Any) -> str:
    """As a template's ``{{ value }}``: localized, then escaped (an int as it is without
    thousands separators, as ``localize`` writes it then). For the tags that write a page's
    loops in Python with the template's bytes."""
    if type(value) is str:
        return escape_text(value)
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return escape_text(localize(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """As ``attrs.html``: False leaves the attribute out, True writes its name alone."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {escape_text(name)}")
        else:
            parts.append(f' {escape_text(name)}="{escape_text(str(value))}"')
    return "".join(parts)


def _shown(value: Any) -> str:
    """As ``{{ value }}`` in a template: localized, then escaped."""
    return escape_text(localize(value))


def _select(widget: dict[str, Any]) -> str:
    """As ``select.html`` with ``select_option.html`` (its whitespace included)."""
    parts = [f'<select name="{escape_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            value = escape_text(str(option["value"]))  # as |stringformat:"s"
            parts.append(
                f'\n  <option value="{value}"{_attrs(option["attrs"])}>'
                f"{_shown(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class InputsInPython(DjangoTemplates):
    """Django's template renderer, except for the plain input widgets (see the module)."""

    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        widget = context.get("widget")
        if widget is not None and template_name in _INPUTS:
            value = widget["value"]
            shown = "" if value is None else f' value="{escape_text(str(value))}"'
            return (
                f'<input type="{escape_text(widget["type"])}" '
                f'name="{escape_text(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
            )
        if widget is not None and template_name == _TEXTAREA:
            value = widget["value"]
            text = conditional_escape(value) if value else ""
            return (
                f'<textarea name="{escape_text(widget["name"])}"'
                f"{_attrs(widget['attrs'])}>\n{text}</textarea>"
            )
        if (
            widget is not None
            and template_name == _SELECT
            and widget.get("template_name") == _SELECT
            and all(
                o.get("template_name") == "django/forms/widgets/select_option.html"
                for _n, group, _i in widget["optgroups"]
                for o in group
            )
        ):
            return _select(widget)
        return str(super().render(template_name, context, request))


INPUTS_IN_PYTHON = InputsInPython()
"""One instance for every form that uses it (as Django keeps one default renderer: each
instance builds its own template engine)."""
