from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from ketaclinic.intake.self_screen import (
    SELF_SCREEN_CODES,
    SHORT_NAMES,
    TOPICS,
    self_screen_instrument,
)
from ketaclinic.scales.forms import InstrumentForm
from ketaclinic.scales.instruments import Instrument
from ketaclinic.site.models import Page
from ketaclinic.site.templatetags.self_screen_words import WORDS


class PageForm(forms.ModelForm[Page]):
    class Meta:
        model = Page
        fields = ["title", "summary", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 24})}
        help_texts = {
            "body": "Markdown: ## for a heading, - for a list item, [text](https://...) for a "
            "link. Scripts, styles and images are removed when the page is shown. The crisis "
            "notice and the 'not medical advice' notice are added to every page automatically.",
        }


def _self_screen_choices() -> list[tuple[str, str]]:
    choices = []
    for code in SELF_SCREEN_CODES:
        instrument = self_screen_instrument(code)
        topic = str(WORDS.get(TOPICS[code], TOPICS[code])).capitalize()
        count = len(instrument.items)
        words = _("%(topic)s: %(name)s, %(count)s questions")
        choices.append((code, words % {"topic": topic, "name": SHORT_NAMES[code], "count": count}))
    return choices


class SelfScreenChooseForm(forms.Form):
    """Which self-screen questionnaires to answer (one or both)."""

    instruments = forms.MultipleChoiceField(
        choices=_self_screen_choices,
        initial=list(SELF_SCREEN_CODES),
        widget=forms.CheckboxSelectMultiple,
        label=_("Which questionnaires would you like to answer?"),
        error_messages={"required": _("Choose at least one questionnaire.")},
    )

    def codes(self) -> list[str]:
        """The chosen codes, in the site's order (GAD-7 first), after ``is_valid()``."""
        chosen = set(self.cleaned_data["instruments"])
        return [code for code in SELF_SCREEN_CODES if code in chosen]


class CrisisRadioSelect(forms.RadioSelect):
    """Radio buttons that mark the answers raising an urgent flag (``data-crisis``), so that
    CSS alone can show crisis resources as soon as one is chosen (no inline script: CSP)."""

    def __init__(self, *args: Any, crisis_values: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crisis_values = crisis_values

    def create_option(
        self,
        name: str,
        value: Any,
        label: Any,
        selected: Any,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.crisis_values:
            option["attrs"]["data-crisis"] = "true"
        return option


class SelfScreenInstrumentForm(InstrumentForm):
    """A self-screen questionnaire: the scales' form, plus the items with an urgent flag rule
    (PHQ-9 item 9), whose flag-raising answers are marked for the inline crisis notice."""

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, instrument=instrument, **kwargs)
        self.urgent_link_ids: set[str] = set()
        for flag in instrument.flags:
            if flag.severity != "urgent" or flag.when.link_id not in self.fields:
                continue
            item = instrument.item(flag.when.link_id)
            raising = frozenset(
                str(option.weight)
                for option in item.options
                if flag.when.holds({item.link_id: option.weight})
            )
            field = cast(forms.ChoiceField, self.fields[item.link_id])
            field.widget = CrisisRadioSelect(
                attrs=field.widget.attrs, choices=field.choices, crisis_values=raising
            )
            self.urgent_link_ids.add(item.link_id)

    def problem_items(self) -> list[tuple[str, str]]:
        """(fieldset id, label) of each question with an error, in order, after validation."""
        return [
            (f"{self.prefix}-item-{name}", str(self.fields[name].label))
            for name in self.fields
            if name in self.errors
        ]
