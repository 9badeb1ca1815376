"""Forms of the ledger's pages. They only parse what is typed (numbers, dates, choices); the
ledger's rules (positive volumes, 4 decimal places, witnesses, balances) stay in the services,
whose errors `lib.forms.service_errors_onto` puts beside the fields they name."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models
from django.http import HttpRequest

from ketaclinic.ledger import services
from ketaclinic.ledger.models import (
    Container,
    CountKind,
    RegisteredLocation,
    StorageKind,
    StorageLocation,
)
from ketaclinic.lib.forms import CheckedTextForm


def _ml_field(label: str, **kwargs: Any) -> forms.DecimalField:
    """A volume as typed: the database keeps 12 digits; how many decimals and the sign are the
    ledger's rules, checked by the services."""
    widget = forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
    return forms.DecimalField(label=label, widget=widget, max_digits=12, **kwargs)


def _text(label: str, max_length: int, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, **kwargs)


def _reason(label: str, max_length: int = 2000) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.Textarea(attrs={"rows": 2})
    )


class Fieldsets:
    """Groups of fields with a legend, for the generic form template."""

    fieldset_names: Sequence[tuple[str, Sequence[str]]] = ()

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        form: Any = self
        if not self.fieldset_names:
            return [("", list(form))]
        return [(legend, [form[name] for name in names]) for legend, names in self.fieldset_names]


class ReceiptForm(CheckedTextForm, Fieldsets, forms.Form):
    location = forms.ModelChoiceField(
        label="Registered location", queryset=RegisteredLocation.objects.order_by("name", "pk")
    )
    storage = forms.ModelChoiceField(
        label="Storage location",
        queryset=StorageLocation.objects.select_related("location").order_by("location", "name"),
        required=False,
        empty_label="The location's first (its safe)",
    )
    product_name = _text("Product", 200, initial="Ketamine HCl injection")
    ndc = _text("NDC", 20)
    finished_form = _text("Finished form", 100, initial="injection, solution")
    concentration_mg_per_ml = _ml_field("Concentration (mg/mL)")
    container_volume_ml = _ml_field("Volume per container (mL)")
    lot = _text("Lot", 100)
    expiry = forms.DateField(label="Expiry", widget=forms.DateInput(attrs={"type": "date"}))
    containers = forms.IntegerField(label="Number of containers", min_value=1, max_value=1000)
    supplier_name = _text("Supplier", 200)
    supplier_address = _text("Supplier address", 500)
    supplier_dea_number = _text("Supplier DEA number", 9)
    reference = _text("Invoice or order number", 200)
    received_at = forms.DateTimeField(
        label="Received at",
        # Whole minutes: a value with seconds makes the browser's picker step in seconds, and
        # a time typed to the minute is then refused as not matching the step.
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "60"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    fieldset_names = (
        ("Where", ("location", "storage", "received_at")),
        (
            "What",
            (
                "product_name",
                "ndc",
                "finished_form",
                "concentration_mg_per_ml",
                "container_volume_ml",
                "lot",
                "expiry",
                "containers",
            ),
        ),
        ("From", ("supplier_name", "supplier_address", "supplier_dea_number", "reference")),
    )
    # The service's (and its model's) field names that differ from the form's.
    aliases = {
        "supplier.dea_number": "supplier_dea_number",
        "form": "finished_form",
        "containers_count": "containers",
    }


class DrawForm(CheckedTextForm, Fieldsets, forms.Form):
    session = forms.ChoiceField(label="For the session")
    volume_ml = _ml_field("Volume drawn (mL)")

    def __init__(self, *args: Any, sessions: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["session"]
        field.choices = [("", "Choose the session"), *sessions]


class WasteForm(CheckedTextForm, Fieldsets, forms.Form):
    volume_ml = _ml_field("Volume wasted (mL)")
    method = _text("How it was destroyed", 200, initial="Pharmaceutical waste container")
    witness_username = _text(
        "Witness's username",
        150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    witness_password = forms.CharField(
        label="Witness's password",
        max_length=200,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    witness_otp = _text(
        "Witness's two-factor code (if they use two-factor)",
        20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    fieldset_names = (
        ("Waste", ("volume_ml", "method")),
        (
            "Witness (another staff member, typing their own credentials)",
            (
                "witness_username",
                "witness_password",
                "witness_otp",
            ),
        ),
    )

    def witness(self, request: HttpRequest) -> services.WitnessCredentials | None:
        """As the API takes them: no witness when none of the three is given."""
        data = self.cleaned_data
        username, password, otp = (
            data["witness_username"],
            data["witness_password"],
            data["witness_otp"],
        )
        if not username and not password and not otp:
            return None
        return services.WitnessCredentials(
            username=username, password=password, otp=otp, request=request
        )


class ReasonForm(CheckedTextForm, Fieldsets, forms.Form):
    reason = _reason("Reason")


class CorrectionForm(CheckedTextForm, Fieldsets, forms.Form):
    volume_ml = _ml_field(
        "Correction (mL, signed)",
        help_text="Negative to take back part of the entry's volume, positive to add to it.",
    )
    reason = _reason("Why the entry is corrected")


class ResolveForm(CheckedTextForm, Fieldsets, forms.Form):
    resolution = _reason("What was found", max_length=4000)


class SealedCount(models.TextChoices):
    PRESENT = "present", "Present, seal intact (1 vial)"
    MISSING = "missing", "Missing (0 vials)"
    OPENED = "opened", "Found opened: measure it"


class CountForm(CheckedTextForm, Fieldsets, forms.Form):
    """A count of a location: one line per container, counted blind (the expected figure is
    not shown), an opened container's volume may be estimated."""

    kind = forms.ChoiceField(label="Count", choices=CountKind.choices)

    def __init__(
        self,
        *args: Any,
        containers: Sequence[Container],
        sealed: set[int] | frozenset[int] = frozenset(),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.containers = list(containers)
        self.sealed = set(sealed)
        self.legends: dict[int, str] = {}
        for container in self.containers:
            vial = f"{container.nominal_ml.normalize():f} mL vial"
            self.legends[container.pk] = f"Container {container.pk}, lot {container.lot}, {vial}"
            if container.pk in self.sealed:
                # A sealed vial is counted as a vial, not measured: present, missing, or found
                # opened (then its volume is measured like an open one).
                self.fields[f"sealed_{container.pk}"] = forms.ChoiceField(
                    label=f"Container {container.pk}: sealed vial",
                    choices=SealedCount.choices,
                    widget=forms.RadioSelect,
                )
                self.fields[f"counted_{container.pk}"] = _ml_field(
                    f"Container {container.pk}: mL, only if found opened", required=False
                )
                continue
            self.fields[f"counted_{container.pk}"] = _ml_field(
                f"Container {container.pk}: counted (mL)"
            )
            self.fields[f"estimated_{container.pk}"] = forms.BooleanField(
                label=f"Container {container.pk}: estimated (opened containers only)",
                required=False,
            )

    def _names(self, container: Container) -> tuple[str, ...]:
        if container.pk in self.sealed:
            return (f"sealed_{container.pk}", f"counted_{container.pk}")
        return (f"counted_{container.pk}", f"estimated_{container.pk}")

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        groups = [("", [self["kind"]])]
        for container in self.containers:
            names = self._names(container)
            groups.append((self.legends[container.pk], [self[name] for name in names]))
        return groups

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for pk in self.sealed:
            state = cleaned.get(f"sealed_{pk}")
            if state == SealedCount.OPENED and cleaned.get(f"counted_{pk}") is None:
                self.add_error(f"counted_{pk}", "Found opened: give the volume in mL.")
        return cleaned

    @property
    def aliases(self) -> dict[str, str]:
        """`lines.<n>.<field>` of the service as this form's fields."""
        result = {}
        for n, container in enumerate(self.containers):
            result[f"lines.{n}.counted_ml"] = f"counted_{container.pk}"
            result[f"lines.{n}.estimated"] = f"estimated_{container.pk}"
            result[f"lines.{n}.container"] = f"counted_{container.pk}"
        return result

    def lines(self) -> list[services.CountLine]:
        data = self.cleaned_data
        lines = []
        for container in self.containers:
            pk = container.pk
            if pk in self.sealed:
                state = data[f"sealed_{pk}"]
                counted = {
                    SealedCount.PRESENT: container.nominal_ml,
                    SealedCount.MISSING: Decimal(0),
                }.get(state, data.get(f"counted_{pk}") or Decimal(0))
                lines.append(services.CountLine(container, Decimal(counted), False))
                continue
            lines.append(
                services.CountLine(
                    container, Decimal(data[f"counted_{pk}"]), bool(data[f"estimated_{pk}"])
                )
            )
        return lines


# -- setup: registered locations and their storage ----------------------------------------------


class LocationForm(forms.Form):
    name = _text("Name", 200, help_text="How staff call it, e.g. Main clinic.")
    registrant_name = _text("Registrant", 200, help_text="The name on the DEA registration.")
    address = _text("Address", 500)
    dea_number = _text("DEA registration number", 9, help_text="Two letters and seven digits.")
    dea_expiry = forms.DateField(
        label="Registration expires", widget=forms.DateInput(attrs={"type": "date"})
    )
    waste_witness_required = forms.BooleanField(
        label="Wasting needs a second staff member as witness",
        required=False,
        initial=True,
        help_text="State or institutional policy (DEA 2014 disposal rule commentary).",
    )


class StorageForm(forms.Form):
    name = _text("Name", 100, help_text="E.g. Safe 2, Recovery-room cabinet.")
    kind = forms.ChoiceField(label="Kind", choices=StorageKind.choices, initial=StorageKind.SAFE)


class WitnessPolicyForm(forms.Form):
    waste_witness_required = forms.BooleanField(required=False)
