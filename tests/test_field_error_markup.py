"""A field's errors are announced in an alert region that holds the list, never a list that is
itself the alert: ``<ul role="alert">`` strips the list's role, so its items belong to no list
(axe: "listitem", serious) and screen readers read them out of context."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.template.loader import render_to_string

FIELD_TEMPLATES = (
    "components/_field.html",
    "courses/_field.html",
    "ledger/_field.html",
    "smart/_field.html",
)


class _Form(forms.Form):
    weight = forms.DecimalField(label="Weight (kg)", min_value=20)


class _Roles(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.alert_tags: list[str] = []
        self.items_inside_alert = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        role = dict(attrs).get("role")
        if role == "alert":
            self.alert_tags.append(tag)
        if tag == "li" and any(r == "alert" for _, r in self.stack):
            self.items_inside_alert += 1
        if tag not in ("input", "br", "img", "meta", "link"):
            self.stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


@pytest.mark.parametrize("template", FIELD_TEMPLATES)
def test_field_errors_sit_in_an_alert_region_that_holds_the_list(template: str) -> None:
    form = _Form(data={"weight": "3"})
    assert not form.is_valid()
    html = render_to_string(template, {"field": form["weight"]})
    roles = _Roles()
    roles.feed(html)
    assert roles.alert_tags == ["div"], html
    assert roles.items_inside_alert == 1  # the error, read as an item of its list
    assert "greater than or equal to 20" in html
