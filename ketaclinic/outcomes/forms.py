"""The clinic outcomes page's filters (GET), shaped into ``selectors.Filters``."""

from __future__ import annotations

from typing import Any

from django import forms

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.courses.models import Protocol
from ketaclinic.outcomes.rules.definitions import shipped_definitions
from ketaclinic.outcomes.selectors import Filters

MAX_INFUSION = 12


def _timepoints() -> list[tuple[str, str]]:
    choices = [
        ("post_induction", "14-31 days after induction"),
        ("week_6", "6 weeks after the first infusion"),
        ("latest", "Latest score"),
    ]
    choices += [(f"infusion:{n}", f"After infusion {n}") for n in range(1, MAX_INFUSION + 1)]
    return choices


class OutcomeFilterForm(forms.Form):
    measure = forms.ChoiceField(required=False)
    timepoint = forms.ChoiceField(required=False, label="Timepoint", choices=_timepoints)
    disorder = forms.ChoiceField(required=False)
    protocol = forms.ChoiceField(required=False, label="Protocol")
    route = forms.ChoiceField(required=False, label="Route")
    clinician = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    period_from = forms.DateField(required=False, label="First infusion from")
    period_to = forms.DateField(required=False, label="to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defs = shipped_definitions()
        fields: Any = self.fields
        fields["measure"].choices = [(code, m.name) for code, m in defs.measures.items()]
        fields["disorder"].choices = [("", "All disorders")] + [
            (code, d.label) for code, d in defs.disorders.items()
        ]
        protocols = Protocol.objects.order_by("code").values_list("code", "name").distinct()
        seen: dict[str, str] = {}
        for code, name in protocols:
            seen.setdefault(code, name)
        fields["protocol"].choices = [("", "All protocols"), *seen.items()]
        routes = sorted(set(Protocol.objects.values_list("route", flat=True)))
        fields["route"].choices = [("", "All routes")] + [(r, r) for r in routes]
        clinicians = User.objects.filter(role=Role.CLINICIAN.value).order_by("username")
        fields["clinician"].choices = [("", "All prescribers")] + [
            (str(u.pk), u.get_full_name() or u.get_username()) for u in clinicians
        ]

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            measure=data["measure"] or "gad7",
            timepoint=data["timepoint"] or "post_induction",
            disorder=data["disorder"] or "",
            protocol=data["protocol"] or "",
            route=data["route"] or "",
            clinician=data["clinician"],
            period_from=data["period_from"],
            period_to=data["period_to"],
        )
