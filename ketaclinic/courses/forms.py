"""Forms of the courses pages: protocol versions, prescriber presence, starting and changing
a course, dose orders, bookings and chairs. They shape input; the services decide."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django import forms
from django.db import models
from django.utils import timezone

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.courses.models import Chair, Course, CourseStatus, Phase, Protocol
from ketaclinic.courses.opening_hours import WEEKDAYS, opening_hours_parse
from ketaclinic.lib.forms import CheckedTextForm

_F = TypeVar("_F", bound=forms.Form)


class ProtocolVersionForm(forms.Form):
    definition_json = forms.CharField(
        label="Protocol (JSON)",
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "mono", "spellcheck": "false"}),
    )
    source = forms.CharField(
        label="What this version is based on",
        max_length=500,
        help_text="E.g. the medical director's decision of 2026-01-05, or the paper it follows.",
    )


class PresenceForm(CheckedTextForm, forms.Form):
    clinician = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by("username"),
        label="Prescriber",
    )
    from_time = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    to_time = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))


# -- the patient's courses page ----------------------------------------------------------------


def _reason_field(label: str = "Reason") -> forms.CharField:
    return forms.CharField(label=label, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CourseStartForm(CheckedTextForm, forms.Form):
    protocol = forms.ModelChoiceField(
        queryset=Protocol.objects.filter(active=True).order_by("name", "code"),
        label="Protocol",
        empty_label="Choose a protocol",
        help_text="Only the version in use can be chosen; the course keeps it.",
    )


class CourseChange(models.TextChoices):
    """What the course form's buttons do: a status change, or a move to a phase."""

    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    END = "end", "End the course"
    INDUCTION = Phase.INDUCTION.value, "Move to the induction phase"
    MAINTENANCE = Phase.MAINTENANCE.value, "Move to the maintenance phase"


class CourseChangeForm(CheckedTextForm, forms.Form):
    """One reason, and a button per change (the button pressed is the `change`)."""

    change = forms.ChoiceField(
        choices=CourseChange.choices,
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose a change with one of the buttons.",
            "invalid_choice": "%(value)s is not a change of a course.",
        },
    )
    reason = _reason_field()

    def phase(self) -> str | None:
        """The phase to move to, or None for a status change."""
        change = self.cleaned_data["change"]
        return change if change in Phase.values else None


class DoseBasisChoice(models.TextChoices):
    PER_KG = "mg_per_kg", "mg/kg"
    FIXED = "fixed_mg", "mg (fixed)"


class DoseOrderForm(CheckedTextForm, forms.Form):
    amount = forms.DecimalField(label="Dose")
    basis = forms.ChoiceField(
        label="Per", choices=DoseBasisChoice.choices, initial=DoseBasisChoice.PER_KG
    )
    rationale = _reason_field("Rationale")

    def amounts(self) -> dict[str, Decimal]:
        """The service's keyword: mg_per_kg or fixed_mg."""
        return {self.cleaned_data["basis"]: self.cleaned_data["amount"]}


class ChairChoiceField(forms.ModelChoiceField[Chair]):
    def label_from_instance(self, obj: Chair) -> str:
        return f"{obj.name} ({obj.room})" if obj.room else obj.name


class SessionBookForm(CheckedTextForm, forms.Form):
    """The start is the clinic's wall-clock time: the field reads it in the current time zone,
    which is settings.TIME_ZONE, and answers an aware datetime (a time that a clock change
    skips or repeats is refused as ambiguous)."""

    start = forms.DateTimeField(
        label="Start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    chair = ChairChoiceField(
        queryset=Chair.objects.order_by("name"), label="Chair", empty_label="Choose a chair"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["start"].help_text = f"Clinic time ({zone})."


def course_change_buttons(course: Course) -> list[tuple[str, str]]:
    """The changes offered for the course as it is now (the service decides what it allows)."""
    buttons = []
    if course.status == CourseStatus.ACTIVE:
        buttons.append(CourseChange.PAUSE)
    elif course.status == CourseStatus.PAUSED:
        buttons.append(CourseChange.RESUME)
    buttons.append(
        CourseChange.INDUCTION if course.phase == Phase.MAINTENANCE else CourseChange.MAINTENANCE
    )
    buttons.append(CourseChange.END)
    return [(button.value, button.label) for button in buttons]


@dataclass
class CourseForms:
    """The forms beside one course, each only for the roles that may use it, and the reasons
    the service gave when the form named `refused_form` was just refused."""

    course: Course
    change: CourseChangeForm | None = None
    dose: DoseOrderForm | None = None
    book: SessionBookForm | None = None
    change_buttons: list[tuple[str, str]] = field(default_factory=list)
    refused_form: str = ""
    reasons: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        user: Any,
        course: Course,
        bound: dict[str, forms.Form] | None = None,
        reasons: tuple[str, ...] = (),
    ) -> CourseForms:
        bound = bound or {}
        panel = cls(course=course, reasons=reasons, refused_form=next(iter(bound), ""))
        is_open = course.status != CourseStatus.ENDED
        is_active = course.status == CourseStatus.ACTIVE

        def shown(name: str, permission: str, when: bool) -> bool:
            # A form just posted is shown again (with its errors or the reasons it was
            # refused), whatever the course's state now.
            return name in bound or (when and user_can(user, permission))

        if shown("change", "course.change", is_open):
            panel.change = _bound(bound, "change", CourseChangeForm)
            panel.change_buttons = course_change_buttons(course) if is_open else []
        if shown("dose", "dose.order", is_open):
            panel.dose = _bound(bound, "dose", DoseOrderForm)
        if shown("book", "session.book", is_active):
            panel.book = _bound(bound, "book", SessionBookForm)
        return panel


def _bound(bound: dict[str, forms.Form], name: str, form_class: type[_F]) -> _F:
    form = bound.get(name)
    return form if isinstance(form, form_class) else form_class()


# -- chairs -----------------------------------------------------------------------------------

_WINDOW = re.compile(r"^([0-2]\d:[0-5]\d)\s*[-\u2013]\s*([0-2]\d:[0-5]\d)$")
HOURS_HELP = (
    "Per weekday, in clinic time: e.g. 08:00-17:00, or 08:00-12:00, 13:00-17:00; empty is "
    "closed that day. Leave every day empty for a chair that can be booked at any time."
)


class ChairForm(CheckedTextForm, forms.Form):
    """A chair with its opening hours per weekday. No hours on any day: bookable at any time."""

    hours_help = HOURS_HELP

    name = forms.CharField(label="Name", max_length=100)
    room = forms.CharField(label="Room", max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for weekday, day_name in enumerate(WEEKDAYS):
            self.fields[f"hours_{weekday}"] = forms.CharField(
                label=day_name,
                max_length=200,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "08:00-17:00"}),
            )

    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{weekday}"] for weekday in range(len(WEEKDAYS))]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        hours: list[dict[str, Any]] = []
        for weekday in range(len(WEEKDAYS)):
            name = f"hours_{weekday}"
            for part in filter(None, (p.strip() for p in cleaned.get(name, "").split(","))):
                match = _WINDOW.match(part)
                if match is None:
                    self.add_error(name, f"{part}: write each opening as HH:MM-HH:MM.")
                    continue
                window = {"weekday": weekday, "opens": match[1], "closes": match[2]}
                try:
                    opening_hours_parse([window])
                except ValueError as exc:
                    self.add_error(name, f"{part}: {str(exc).split(': ', 1)[-1]}.")
                    continue
                hours.append(window)
        cleaned["opening_hours"] = hours
        return cleaned


# -- series, cancel, move, did not attend ------------------------------------------------------


class SeriesForm(CheckedTextForm, forms.Form):
    """The first session of a series; the rest are proposed from the protocol's spacing."""

    first_start = forms.DateTimeField(
        label="First session",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    chair = ChairChoiceField(
        queryset=Chair.objects.order_by("name"), label="Chair", empty_label="Choose a chair"
    )
    count = forms.IntegerField(label="Sessions", min_value=1, max_value=30)

    def __init__(self, *args: Any, remaining: int = 6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields[
            "first_start"
        ].help_text = f"Clinic time ({zone}). The next sessions keep this time of day."
        self.fields["count"].initial = remaining
        self.fields["count"].help_text = f"The protocol allows {remaining} more in this phase."


class SeriesConfirmForm(CheckedTextForm, forms.Form):
    """The proposed starts, as ISO texts (chosen by tick boxes), and the chair."""

    chair = forms.ModelChoiceField(queryset=Chair.objects.all(), widget=forms.HiddenInput)
    starts = forms.MultipleChoiceField(
        label="Sessions to book", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        starts = self.fields["starts"]
        assert isinstance(starts, forms.MultipleChoiceField)
        starts.choices = choices or []

    def clean_starts(self) -> list[datetime]:
        values: list[str] = self.cleaned_data["starts"]
        parsed = []
        for value in values:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise forms.ValidationError("A start without its UTC offset.")
            parsed.append(moment)
        return parsed


class SessionReasonForm(CheckedTextForm, forms.Form):
    reason = _reason_field()


class RescheduleForm(CheckedTextForm, forms.Form):
    start = forms.DateTimeField(
        label="New start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    chair = ChairChoiceField(queryset=Chair.objects.order_by("name"), label="Chair")
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["start"].help_text = f"Clinic time ({zone})."


def chair_form_initial(chair: Chair) -> dict[str, str]:
    """A chair's stored hours as the form's per-weekday texts."""
    initial = {"name": chair.name, "room": chair.room}
    for window in opening_hours_parse(chair.opening_hours):
        name = f"hours_{window.weekday}"
        text = f"{window.opens:%H:%M}-{window.closes:%H:%M}"
        initial[name] = f"{initial[name]}, {text}" if name in initial else text
    return initial
