"""Forms of the ledger's pages. They only parse what is typed (numbers, dates, choices); the
ledger's rules (positive volumes, 4 decimal places, witnesses, balances) stay in the services,
whose errors `lib.forms.service_errors_onto` puts beside the fields they name."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest

from ketaclinic.ledger import services
from ketaclinic.ledger.models import (
    Container,
    CountKind,
    RegisteredLocation,
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
        label="Received at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
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


class CountForm(CheckedTextForm, Fieldsets, forms.Form):
    """A count of a location: one line per container, counted blind (the expected figure is
    not shown), an opened container's volume may be estimated."""

    kind = forms.ChoiceField(label="Count", choices=CountKind.choices)

    def __init__(self, *args: Any, containers: Sequence[Container], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.containers = list(containers)
        self.legends: dict[int, str] = {}
        for container in self.containers:
            self.legends[container.pk] = (
                f"Container {container.pk}, lot {container.lot}, "
                f"{container.nominal_ml.normalize():f} mL vial"
            )
            self.fields[f"counted_{container.pk}"] = _ml_field(
                f"Container {container.pk}: counted (mL)"
            )
            self.fields[f"estimated_{container.pk}"] = forms.BooleanField(
                label=f"Container {container.pk}: estimated (opened containers only)",
                required=False,
            )

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        groups = [("", [self["kind"]])]
        for container in self.containers:
            names = (f"counted_{container.pk}", f"estimated_{container.pk}")
            groups.append((self.legends[container.pk], [self[name] for name in names]))
        return groups

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
        return [
            services.CountLine(
                container,
                Decimal(data[f"counted_{container.pk}"]),
                bool(data[f"estimated_{container.pk}"]),
            )
            for container in self.containers
        ]
