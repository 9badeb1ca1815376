"""Forms of intake: the public inquiry, and the pipeline pages (status change, contact attempt,
conversion to a patient)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ketaclinic.intake.models import (
    AttemptMethod,
    AttemptOutcome,
    Concern,
    ContactMethod,
    InquiryStatus,
)
from ketaclinic.intake.self_screen import (
    ScreenResult,
    TokenExpired,
    TokenInvalid,
    self_screen_token_read,
)
from ketaclinic.lib.forms import CheckedTextForm
from ketaclinic.patients.models import SexAtBirth

SELF_SCREEN_TOKEN_MAX_LENGTH = 4000  # two questionnaires' answers sign to about 200 characters
SELF_SCREEN_EXPIRED = (
    "Your self-screen results could not be attached: they are more than 2 hours old. "
    "Untick the box to send your inquiry without them, or take the self-screen again."
)
SELF_SCREEN_INVALID = (
    "Your self-screen results could not be attached: they were changed or damaged on the way. "
    "Untick the box to send your inquiry without them, or take the self-screen again."
)


class InquiryForm(CheckedTextForm, forms.Form):
    """The public inquiry form. `website` is a honeypot, hidden by CSS; people leave it empty.

    A self-screen comes in as ``self_screen_token`` (signed, see ``self_screen_token``) and is
    sent while ``attach_self_screen`` stays ticked; ``cleaned_data["self_screen"]`` then holds
    its answers as ``[{"instrument", "answers"}]``, for the service to score again.
    """

    person_names = frozenset({"name"})

    name = forms.CharField(max_length=100, label=_("Your name"))
    email = forms.EmailField(max_length=254, required=False, label=_("E-mail address"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone number"))
    preferred_contact = forms.ChoiceField(
        choices=ContactMethod.choices,
        initial=ContactMethod.EMAIL,
        widget=forms.RadioSelect,
        label=_("How should we contact you?"),
    )
    concerns = forms.MultipleChoiceField(
        choices=Concern.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("What would you like help with?"),
    )
    prior_treatments = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Treatments you have tried (optional)"),
        help_text=_("For example medicines, therapy such as CBT, and roughly for how long."),
    )
    message = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Anything else you would like us to know (optional)"),
    )
    heard_about = forms.CharField(
        max_length=200, required=False, label=_("How did you hear about us? (optional)")
    )
    consent_to_contact = forms.BooleanField(
        required=True,
        label=_("I agree that the clinic may contact me about this inquiry."),
        error_messages={"required": _("We can only answer if you agree to be contacted.")},
    )
    website = forms.CharField(
        max_length=200,
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # No max_length: a field error on a hidden field would not be seen; see the length check.
    self_screen_token = forms.CharField(required=False, widget=forms.HiddenInput, strip=True)
    attach_self_screen = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Send these self-screen results with my inquiry"),
        help_text=_("Untick this to send your inquiry without the results."),
    )

    def self_screen_attached(self) -> tuple[list[ScreenResult], str]:
        """The results in the token this form carries, and the problem with it ("" if none).
        ``([], "")`` when no self-screen is attached."""
        if self.is_bound:
            token = str(self.data.get(self.add_prefix("self_screen_token"), ""))
        else:
            token = str(self.initial.get("self_screen_token", ""))
        if not token:
            return [], ""
        if len(token) > SELF_SCREEN_TOKEN_MAX_LENGTH:
            return [], SELF_SCREEN_INVALID
        try:
            return self_screen_token_read(token), ""
        except TokenExpired:
            return [], SELF_SCREEN_EXPIRED
        except TokenInvalid:
            return [], SELF_SCREEN_INVALID

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["self_screen"] = []
        if cleaned.get("self_screen_token") and cleaned.get("attach_self_screen"):
            results, problem = self.self_screen_attached()
            if problem:
                self.add_error("attach_self_screen", problem)
            else:
                cleaned["self_screen"] = [
                    {"instrument": r.code, "answers": dict(r.answers)}
                    | ({"taken_at": r.taken_at.isoformat()} if r.taken_at else {})
                    for r in results
                ]
        return cleaned


# -- the pipeline pages ----------------------------------------------------------------------

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FOLLOW_UP_HELP = "Shown on the board from that day on. Leave empty for no follow-up."


def _follow_up_field() -> forms.DateField:
    return forms.DateField(
        label="Follow up on", required=False, widget=_DATE, help_text=FOLLOW_UP_HELP
    )


def _note_field() -> forms.CharField:
    return forms.CharField(
        label="Note (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusChangeForm(CheckedTextForm, forms.Form):
    status = forms.ChoiceField(label="New status", choices=InquiryStatus.choices)
    note = _note_field()
    follow_up_on = _follow_up_field()


class ContactAttemptForm(CheckedTextForm, forms.Form):
    method = forms.ChoiceField(label="How", choices=AttemptMethod.choices)
    outcome = forms.ChoiceField(label="Outcome", choices=AttemptOutcome.choices)
    note = _note_field()
    follow_up_on = _follow_up_field()


class ConversionForm(CheckedTextForm, forms.Form):
    """The patient record's fields: prefilled from the inquiry, the rest asked for."""

    person_names = frozenset({"given_name", "family_name"})

    given_name = forms.CharField(label="Given name", max_length=100)
    family_name = forms.CharField(label="Family name", max_length=100)
    birth_date = forms.DateField(label="Birth date", widget=_DATE)
    sex_at_birth = forms.ChoiceField(
        label="Sex at birth",
        choices=[("", "---------"), *SexAtBirth.choices],
        help_text="As recorded for clinical reference ranges.",
    )
    email = forms.EmailField(label="E-mail", max_length=254, required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
