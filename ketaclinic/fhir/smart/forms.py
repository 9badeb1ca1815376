from __future__ import annotations

from django import forms

from ketaclinic.fhir.smart.models import ClientKind

JWKS_HELP = (
    'The program\'s public keys as a JSON Web Key Set ({"keys": [...]}), RSA or EC P-384, '
    "each with a kid. Paste the JSON: a JWKS URL is not fetched."
)
SCOPES_HELP = (
    "Space-separated, e.g. system/Observation.rs system/Patient.rs, or "
    "patient/*.rs for a one-patient program. v1 (system/Observation.read) is accepted."
)


class ClientForm(forms.Form):
    name = forms.CharField(max_length=120, label="Program name")
    client_id = forms.CharField(max_length=64, label="Client id")
    kind = forms.ChoiceField(
        choices=ClientKind.choices, label="It may see", widget=forms.RadioSelect
    )
    patient_mrn = forms.CharField(
        max_length=32,
        required=False,
        label="Patient's MRN (one-patient programs only)",
    )
    scopes = forms.CharField(
        label="Scopes it may be granted",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=SCOPES_HELP,
    )
    jwks = forms.CharField(
        label="Public keys (JWKS)",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=JWKS_HELP,
    )


class ClientChangeForm(forms.Form):
    name = forms.CharField(max_length=120, label="Program name")
    scopes = forms.CharField(
        label="Scopes it may be granted",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=SCOPES_HELP,
    )
    jwks = forms.CharField(
        label="Public keys (JWKS)",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=JWKS_HELP,
    )
    active = forms.BooleanField(
        required=False,
        label="Active (unticked: its tokens stop working at once and it gets no new ones)",
    )
