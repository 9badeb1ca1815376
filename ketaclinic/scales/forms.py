"""Forms built from an instrument's definition: one radio group per item, with the official
wording and answer anchors where the definition has them (copyrighted scales ship without
item text: their items are shown by number, with numeric answers only).

The form only turns posted strings into ``{link_id: weight}``; the pure ``scoring.score``
decides what is complete and valid, and its problems are shown beside their items.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import AnswerOption, Instrument, Item
from ketaclinic.scales.models import Phase, RuleKind
from ketaclinic.scales.scoring import ResponseInvalid, score


def item_label(instrument: Instrument, item: Item) -> str:
    number = f"{instrument.items.index(item) + 1}."
    return f"{number} {item.text}" if item.text else f"Item {item.link_id}"


def option_label(item: Item, option: AnswerOption) -> str:
    """The anchor's wording where the definition has item text; else the number only (a
    copyrighted scale's anchors are part of its licensed wording)."""
    if item.text or option.display == str(option.weight):
        return option.display if item.text else str(option.weight)
    return f"{option.weight} ({option.display})"


class InstrumentForm(forms.Form):
    """The items of one instrument; field names are the link ids (use ``prefix`` to put several
    instruments in one page). ``answers()`` is the response after ``is_valid()``."""

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", instrument.code)
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[item.link_id] = forms.TypedChoiceField(
                label=item_label(instrument, item),
                choices=[
                    (str(option.weight), option_label(item, option)) for option in item.options
                ],
                coerce=int,
                required=False,  # the scoring decides, with the skip logic (C-SSRS)
                widget=forms.RadioSelect(attrs={"class": "answer-options"}),
            )
            self.fields[item.link_id].conditional = bool(item.enable_when)  # type: ignore[attr-defined]

    def answers(self) -> dict[str, int]:
        return {
            link_id: value
            for link_id, value in self.cleaned_data.items()
            if link_id in self.instrument.link_ids and value not in (None, "")
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            score(self.instrument, self.answers())
        except ResponseInvalid as invalid:
            for problem in invalid.problems:
                if problem.link_id in self.fields:
                    self.add_error(problem.link_id, _message(problem.code, problem.message))
                else:
                    self.add_error(None, f"{problem.link_id}: {problem.message}")
        return cleaned

    def add_service_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Errors from ``administration_record`` (``answers.<link_id>`` and others)."""
        for field, messages in errors.items():
            name = field.removeprefix("answers.")
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


def _message(code: str, message: str) -> str:
    if code == "missing":
        return "Please answer this question."
    if code == "not_asked":
        return "Leave this one unanswered: the answer above skips it."
    return message


class AdministeredAtForm(forms.Form):
    """When the staff-entered scale was answered (the clinic's local time)."""

    administered_at = forms.DateTimeField(
        label="Answered at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="The clinic's local time.",
    )

    def clean_administered_at(self) -> datetime:
        moment: datetime = self.cleaned_data["administered_at"]
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


def validation_errors_for(code: str, exc: ValidationError) -> dict[str, list[str]]:
    """The errors of ``exc`` whose keys start with ``<code>.``, keys without that prefix."""
    found: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        if key.startswith(f"{code}."):
            found[key.removeprefix(f"{code}.")] = list(messages)
    return found


def _instrument_choices(codes: list[str]) -> list[tuple[str, str]]:
    return [(code, instruments.get(code).name) for code in codes]


class LinkForm(forms.Form):
    """Which self-report questionnaires to send, and for how long the link works."""

    instruments = forms.MultipleChoiceField(
        label="Questionnaires",
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )
    hours = forms.IntegerField(
        label="Link works for (hours)", min_value=1, max_value=14 * 24, initial=72
    )

    def __init__(self, *args: Any, codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instruments"].choices = _instrument_choices(codes)  # type: ignore[attr-defined]


class KioskForm(forms.Form):
    instruments = forms.MultipleChoiceField(
        label="Questionnaires", widget=forms.CheckboxSelectMultiple, choices=[]
    )

    def __init__(self, *args: Any, codes: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "kiosk")
        super().__init__(*args, **kwargs)
        self.fields["instruments"].choices = _instrument_choices(codes)  # type: ignore[attr-defined]


class ScheduleForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", choices=[])
    rule_kind = forms.ChoiceField(label="When")
    interval_days = forms.IntegerField(
        label="Days",
        required=False,
        min_value=1,
        max_value=365,
        help_text="Every N days: the interval. Before each infusion: how many days before an "
        "answer counts (3 if empty).",
    )
    grace_days = forms.IntegerField(
        label="Grace days before overdue", min_value=0, max_value=60, initial=2
    )
    phase = forms.ChoiceField(label="Treatment phase")
    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "schedule")
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = _instrument_choices(list(instruments.BUILTIN_CODES))  # type: ignore[attr-defined]
        self.fields["rule_kind"].choices = RuleKind.choices  # type: ignore[attr-defined]
        self.fields["phase"].choices = Phase.choices  # type: ignore[attr-defined]
        self.fields["starts_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("rule_kind") == "interval" and not cleaned.get("interval_days"):
            self.add_error("interval_days", "Give the interval in days.")
        return cleaned
