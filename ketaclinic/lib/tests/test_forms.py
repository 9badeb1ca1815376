from django import forms
from django.core.exceptions import ValidationError

from ketaclinic.lib.forms import service_errors_onto


class _Form(forms.Form):
    dose = forms.CharField(required=False)
    note = forms.CharField(required=False)


def _bound() -> _Form:
    form = _Form({"dose": "1", "note": ""})
    assert form.is_valid()
    return form


def test_field_errors_go_beside_their_fields_and_others_above_the_form() -> None:
    form = _bound()
    exc = ValidationError({"dose": ["too much"], "weight": ["unknown here"]})
    service_errors_onto(form, exc)
    assert form.errors["dose"] == ["too much"]
    assert form.non_field_errors() == ["unknown here"]


def test_aliases_rename_the_service_fields_to_the_form_fields() -> None:
    form = _bound()
    service_errors_onto(form, ValidationError({"mg_per_kg": ["no"]}), {"mg_per_kg": "dose"})
    assert form.errors["dose"] == ["no"]


def test_an_error_without_fields_goes_above_the_form() -> None:
    form = _bound()
    service_errors_onto(form, ValidationError(["first", "second"]))
    assert form.non_field_errors() == ["first", "second"]
