from __future__ import annotations

from typing import Any

from django import forms

from ketaclinic.courses.models import Chair
from ketaclinic.lib.forms import CheckedTextForm


class DeviceForm(CheckedTextForm, forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="As the nurses call it.")
    device_id = forms.CharField(
        label="Device id",
        max_length=100,
        help_text="The id the monitor sends: its EUI-64 in OBX-18 (GE), or MSH-3's id.",
    )
    sending_facility = forms.CharField(
        label="Sending facility (MSH-4)",
        max_length=100,
        required=False,
        help_text="Optional: when set, a message must carry it too.",
    )
    chair = forms.ModelChoiceField(
        label="Chair", queryset=Chair.objects.none(), required=False, empty_label="No chair"
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chair_field = self.fields["chair"]
        assert isinstance(chair_field, forms.ModelChoiceField)
        chair_field.queryset = Chair.objects.order_by("name")


class AssignForm(CheckedTextForm, forms.Form):
    session = forms.UUIDField()


class DismissForm(CheckedTextForm, forms.Form):
    reason = forms.CharField(max_length=500)
