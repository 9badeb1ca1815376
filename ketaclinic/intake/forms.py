from __future__ import annotations

from django import forms

from ketaclinic.intake.models import Concern, ContactMethod


class InquiryForm(forms.Form):
    """The public inquiry form. `website` is a honeypot, hidden by CSS; people leave it empty."""

    name = forms.CharField(max_length=100, label="Your name")
    email = forms.EmailField(max_length=254, required=False, label="E-mail address")
    phone = forms.CharField(max_length=40, required=False, label="Phone number")
    preferred_contact = forms.ChoiceField(
        choices=ContactMethod.choices,
        initial=ContactMethod.EMAIL,
        widget=forms.RadioSelect,
        label="How should we contact you?",
    )
    concerns = forms.MultipleChoiceField(
        choices=Concern.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="What would you like help with?",
    )
    prior_treatments = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Treatments you have tried (optional)",
        help_text="For example medicines, therapy such as CBT, and roughly for how long.",
    )
    message = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything else you would like us to know (optional)",
    )
    heard_about = forms.CharField(
        max_length=200, required=False, label="How did you hear about us? (optional)"
    )
    consent_to_contact = forms.BooleanField(
        required=True,
        label="I agree that the clinic may contact me about this inquiry.",
        error_messages={"required": "We can only answer if you agree to be contacted."},
    )
    website = forms.CharField(
        max_length=200,
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
