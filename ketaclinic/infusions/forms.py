"""The session chart's page forms, one per step. They check the shape of the input (numbers are
numbers, required fields are there); the chart's rules stay in the services, whose refusals the
views show beside these forms.

Several forms share field names (a reason, a moment), so each form's ids carry its step:
``id_<step>_<field>``; the posted names stay plain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.utils import timezone

from ketaclinic.infusions import services
from ketaclinic.lib.form_renderer import INPUTS_IN_PYTHON
from ketaclinic.lib.forms import CheckedTextForm

MOMENT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
REASON_MAX = 2000  # as the API's Reason and the stored override_reason


def _labelled(codes: tuple[str, ...] | list[str], *, blank: bool = True) -> list[tuple[str, str]]:
    choices = [(code, code.replace("_", " ").capitalize()) for code in codes]
    return [("", "— choose —"), *choices] if blank else choices


def _amount(label: str, places: int, *, required: bool = False, help_text: str = "") -> Any:
    """A positive amount with at most ``places`` decimals (the column's), below 10000."""
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(1).scaleb(-places),
        max_value=Decimal(10_000) - Decimal(1).scaleb(-places),
        decimal_places=places,
        max_digits=4 + places,
        help_text=help_text,
    )


def _moment(label: str, *, required: bool, help_text: str = "") -> forms.DateTimeField:
    """A moment in the clinic's local time (Django makes it aware in the current zone)."""
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=MOMENT_FORMATS,
        help_text=help_text,
    )


def _reason(label: str, *, required: bool, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


class StepForm(CheckedTextForm, forms.Form):
    """A chart step's form; its field ids start with the step's name."""

    step: str = "step"
    override_field: ClassVar[str | None] = None
    """A field only clinicians see (the service refuses it from anyone else)."""
    # The chart renders some twenty of these widgets per page: written in Python, with the
    # templates' HTML (ketaclinic/lib/form_renderer.py).
    default_renderer = INPUTS_IN_PYTHON

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.step}_%s")
        super().__init__(*args, **kwargs)


class ConfirmForm(StepForm):
    """A step that is only a button (check-in, start): its refusals show above the button."""

    def __init__(self, *args: Any, step: str, **kwargs: Any) -> None:
        self.step = step
        super().__init__(*args, **kwargs)


class AlertAcknowledgeForm(StepForm):
    """Acknowledging one alert; its ids carry the alert (several open alerts share the page)."""

    note = _reason(
        "What was done",
        required=False,
        help_text="Needed when the alert says stop, pause or call the prescriber.",
    )

    def __init__(self, *args: Any, alert_id: int, **kwargs: Any) -> None:
        self.step = f"alert_{alert_id}"
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs["placeholder"] = "e.g. stopped; Dr Ada called"


_WHOLE = forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"})


class VitalsForm(StepForm):
    step = "vitals"

    systolic = forms.IntegerField(label="Systolic (mmHg)", widget=_WHOLE)
    diastolic = forms.IntegerField(label="Diastolic (mmHg)", widget=_WHOLE)
    heart_rate = forms.IntegerField(label="Heart rate (/min)", widget=_WHOLE)
    spo2 = forms.IntegerField(label="SpO2 (%)", widget=_WHOLE)
    resp_rate = forms.IntegerField(label="Respiratory rate (/min)", widget=_WHOLE)
    moaas = forms.IntegerField(label="MOAA/S (0-5)", required=False, widget=_WHOLE)

    # The service's names for the fields, so that its refusals land beside them.
    SERVICE_NAMES: ClassVar[dict[str, str]] = {
        "systolic_mmhg": "systolic",
        "diastolic_mmhg": "diastolic",
        "heart_rate_bpm": "heart_rate",
        "spo2_percent": "spo2",
        "respiratory_rate": "resp_rate",
    }


class AddendumForm(StepForm):
    step = "addendum"

    text = forms.CharField(widget=forms.Textarea, max_length=5000, label="Addendum")


class PreChecksForm(StepForm):
    """The nurse's pre-dose checklist; an unticked box is recorded as not done (and listed
    among what stands before the start). Consent is not a tick: the page records what the
    consent app knows (every required document signed in its current version)."""

    step = "prechecks"

    identity_confirmed = forms.BooleanField(
        label="Identity confirmed (two identifiers)", required=False
    )
    fasting = forms.BooleanField(label="Fasting as instructed", required=False)
    escort_confirmed = forms.BooleanField(label="Escort home confirmed", required=False)
    questionnaires_done = forms.BooleanField(label="Pre-dose questionnaires done", required=False)
    pregnancy_test = forms.ChoiceField(
        label="Pregnancy test", choices=_labelled(services.PREGNANCY_RESULTS)
    )
    weight_kg = _amount("Weight (kg)", 2, required=True)
    weight_measured_at = _moment("Weight measured at", required=True, help_text="Clinic time.")

    def checks(self, *, consent_current: bool) -> services.PreChecks:
        data = self.cleaned_data
        return services.PreChecks(
            identity_confirmed=data["identity_confirmed"],
            consent_current=consent_current,
            fasting=data["fasting"],
            escort_confirmed=data["escort_confirmed"],
            pregnancy_test=data["pregnancy_test"],
            questionnaires_done=data["questionnaires_done"],
            weight_kg=data["weight_kg"],
            weight_measured_at=data["weight_measured_at"],
        )


class ClinicianReviewForm(StepForm):
    step = "review"

    reason = _reason(
        "Review: why the dose may go ahead",
        required=True,
        help_text="For example: repeat BP after rest, within the patient's usual range.",
    )


class DrawExceptionForm(StepForm):
    step = "draw_exception"

    reason = _reason(
        "Why the dose starts without a ledger draw",
        required=True,
        help_text="Recorded on the chart and in the signed record; signing still checks the "
        "ledger.",
    )


class DoseForm(StepForm):
    """Weight for a per-kg dose, the vial's concentration to draw it up, a bag for an
    infusion; a clinician may give a reason to go above the protocol's maximum."""

    step = "dose"
    override_field = "override_reason"

    weight_kg = _amount("Weight (kg)", 2, help_text="For a per-kg dose.")
    concentration_mg_per_ml = _amount(
        "Concentration (mg/mL)", 3, help_text="Of the vial drawn from; not for a nasal device."
    )
    bag_volume_ml = _amount("Bag volume (mL)", 2, help_text="For an infusion.")
    override_reason = _reason(
        "Clinician override: reason to go above the maximum",
        required=False,
        help_text="Clinicians only; leave empty unless the dose is above the maximum.",
    )


class SecondCheckForm(StepForm):
    """The second checker types their own credentials on this page."""

    step = "second_check"

    username = forms.CharField(
        label="Second checker's username",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Second checker's password",
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    totp = forms.CharField(
        label="Second checker's TOTP code",
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text="If they have an authenticator app.",
    )


class InfusionEventForm(StepForm):
    step = "infusion_event"

    action = forms.ChoiceField(
        label="Change", choices=_labelled(tuple(services.INFUSION_ACTIONS), blank=False)
    )
    rate_ml_per_h = _amount("New rate (mL/h)", 4, help_text="For a rate change.")
    reason = _reason("Reason", required=True)


class StopForm(StepForm):
    step = "stop"

    administered_volume_ml = _amount(
        "Drug volume actually given (mL)", 4, help_text="Not for a nasal dose."
    )
    reason = _reason("Reason, if stopped early", required=False)


class SideEffectForm(StepForm):
    step = "side_effect"

    at = _moment("At", required=False, help_text="Clinic time; empty for now.")
    effect = forms.ChoiceField(label="Side effect", choices=_labelled(services.SIDE_EFFECTS))
    severity = forms.ChoiceField(label="Severity", choices=_labelled(services.SEVERITIES))
    intervention = forms.CharField(label="Intervention", max_length=500, required=False)
    drug = forms.CharField(label="Drug given", max_length=100, required=False)
    drug_dose = forms.CharField(label="Dose of that drug", max_length=100, required=False)
    note = forms.CharField(
        label="Note", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def moment(self) -> Any:
        return self.cleaned_data["at"] or timezone.now()


INSTRUMENT_LABELS = {
    "dissociation_0_4": "Dissociation rating (none to extreme)",
    "cadss": "CADSS total",
    "moaas": "MOAA/S sedation",
}
"""Names only: each range is the instrument's or the protocol's (the service checks it)."""


class AssessmentForm(StepForm):
    step = "assessment"

    at = _moment("At", required=False, help_text="Clinic time; empty for now.")
    instrument = forms.ChoiceField(
        label="Instrument",
        choices=[
            ("", "— choose —"),
            *(
                (code, INSTRUMENT_LABELS.get(code, code))
                for code in services.ASSESSMENT_INSTRUMENTS
            ),
        ],
    )
    score = forms.IntegerField(label="Score")

    def moment(self) -> Any:
        return self.cleaned_data["at"] or timezone.now()


class DischargeForm(StepForm):
    step = "discharge"
    override_field = "override_reason"

    aldrete = forms.IntegerField(label="Modified Aldrete score (0-10)")
    escort_present = forms.BooleanField(label="Escort present", required=False)
    instructions_given = forms.BooleanField(label="Discharge instructions given", required=False)
    override_reason = _reason(
        "Clinician override: reason to discharge despite the unmet gates",
        required=False,
        help_text="Clinicians only; the unmet gates are still recorded.",
    )

    SERVICE_NAMES: ClassVar[dict[str, str]] = {"aldrete_total": "aldrete"}
