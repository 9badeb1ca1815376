"""The care plan editor: one form for the plan's sections and two formsets (problems, goals).
The content JSON is built from cleaned data here, never typed by anyone."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.careplan.models import LifestyleArea, PlanStatus
from ketaclinic.careplan.rules.content import LIFESTYLE_AREAS, MODALITIES
from ketaclinic.careplan.rules.goals import Comparator, MeasureKind
from ketaclinic.careplan.rules.safety_plan import SECTIONS, lines
from ketaclinic.courses.models import Course
from ketaclinic.patients.models import Patient
from ketaclinic.scales import instruments

# Patient-rated and clinician-rated totals a goal may be measured by (not the peri-infusion
# scales: dissociation, sedation, recovery, the C-SSRS screener).
GOAL_INSTRUMENTS = ("gad7", "phq9", "pdss_sr", "spin", "lsas", "ocir", "ybocs", "hama")

TEXTAREA = {"rows": 3}


def _instrument_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(code, instruments.get(code).name) for code in GOAL_INSTRUMENTS]


def _therapist_choices() -> list[tuple[str, str]]:
    rows = User.objects.filter(role=Role.THERAPIST.value, is_active=True).order_by("username")
    return [("", "—")] + [(str(u.pk), u.get_full_name() or u.get_username()) for u in rows]


class ProblemForm(forms.Form):
    text = forms.CharField(
        label="Problem, in the patient's words", max_length=500, widget=forms.Textarea(TEXTAREA)
    )


class GoalForm(forms.Form):
    text = forms.CharField(label="Goal, in the patient's words", max_length=500)
    kind = forms.ChoiceField(
        label="Measured by",
        choices=[
            (MeasureKind.SCALE.value, "A scale score"),
            (MeasureKind.TARGET.value, "A target"),
        ],
        widget=forms.RadioSelect,
        initial=MeasureKind.SCALE.value,
    )
    instrument = forms.ChoiceField(label="Scale", required=False, choices=())
    comparator = forms.ChoiceField(
        label="Score",
        required=False,
        choices=[(c.value, c.words) for c in Comparator],
        initial=Comparator.LT.value,
    )
    threshold = forms.IntegerField(label="Threshold", required=False, min_value=0, max_value=200)
    target = forms.CharField(
        label="Target, in plain words",
        required=False,
        max_length=300,
        help_text='e.g. "back to work three days a week"',
    )
    target_date = forms.DateField(
        label="By", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = _instrument_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == MeasureKind.SCALE.value:
            if not data.get("instrument"):
                self.add_error("instrument", "Choose the scale.")
            if data.get("threshold") is None:
                self.add_error("threshold", "Give the score to reach.")
        elif data.get("kind") == MeasureKind.TARGET.value:
            if not data.get("target"):
                self.add_error("target", "Write the target.")
            if not data.get("target_date"):
                self.add_error("target_date", "Give a target date.")
        return data


ProblemFormSet = formset_factory(ProblemForm, extra=1, can_delete=True)
GoalFormSet = formset_factory(GoalForm, extra=1, can_delete=True)


class PlanForm(forms.Form):
    """Everything but the problems and goals."""

    review_on = forms.DateField(
        label="Review date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    plan_status = forms.ChoiceField(label="Plan status", choices=PlanStatus.choices)
    course = forms.ChoiceField(label="Ketamine course", required=False, choices=())
    therapy_provider = forms.ChoiceField(
        label="Psychotherapy",
        choices=[
            ("none", "None planned"),
            ("in_house", "With our integration therapist"),
            ("external", "With an external therapist"),
        ],
        widget=forms.RadioSelect,
        initial="none",
    )
    therapy_therapist = forms.ChoiceField(label="Our therapist", required=False, choices=())
    external_name = forms.CharField(label="External therapist", required=False, max_length=200)
    external_contact = forms.CharField(label="Their contact", required=False, max_length=300)
    modality = forms.ChoiceField(label="Modality", required=False, choices=[("", "—"), *MODALITIES])
    frequency = forms.CharField(
        label="How often", required=False, max_length=200, help_text='e.g. "weekly"'
    )
    integration_planned = forms.BooleanField(
        label="Integration sessions after infusions", required=False
    )
    integration_therapist = forms.ChoiceField(label="Integration with", required=False, choices=())
    integration_timing = forms.CharField(
        label="When",
        required=False,
        max_length=200,
        help_text='e.g. "within 48 hours of each infusion"',
    )
    medications = forms.CharField(
        label="Medications plan", required=False, max_length=4000, widget=forms.Textarea(TEXTAREA)
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        courses = Course.objects.filter(patient=patient).select_related("protocol")
        course_choices = [("", "—")] + [
            (
                str(c.pk),
                f"{c.protocol.name}, started {c.started_at:%Y-%m-%d} ({c.get_status_display()})",
            )
            for c in courses.order_by("-started_at")
        ]
        self.fields["course"].choices = course_choices  # type: ignore[attr-defined]
        therapists = _therapist_choices()
        self.fields["therapy_therapist"].choices = therapists  # type: ignore[attr-defined]
        self.fields["integration_therapist"].choices = therapists  # type: ignore[attr-defined]
        for area in LIFESTYLE_AREAS:
            self.fields[f"lifestyle_{area}"] = forms.CharField(
                label=f"{LifestyleArea(area).label} goal",
                required=False,
                max_length=500,
            )
        for section in SECTIONS:
            self.fields[f"safety_{section.key}"] = forms.CharField(
                label=section.title,
                help_text=f"{section.prompt}. One a line.",
                required=False,
                max_length=2000,
                widget=forms.Textarea(TEXTAREA),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        provider = data.get("therapy_provider")
        if provider == "in_house" and not data.get("therapy_therapist"):
            self.add_error("therapy_therapist", "Choose our therapist.")
        if provider == "external" and not data.get("external_name"):
            self.add_error("external_name", "Write the external therapist's name.")
        if data.get("integration_planned") and not data.get("integration_therapist"):
            self.add_error("integration_therapist", "Choose who holds the integration sessions.")
        return data


def initial_from(content: dict[str, Any], *, review_on: Any, plan_status: str) -> dict[str, Any]:
    therapy = content.get("psychotherapy", {})
    integration = content.get("integration", {})
    initial: dict[str, Any] = {
        "review_on": review_on,
        "plan_status": plan_status,
        "course": content.get("course_id", ""),
        "therapy_provider": therapy.get("provider", "none"),
        "therapy_therapist": str(therapy.get("therapist_id") or ""),
        "external_name": therapy.get("external_name", ""),
        "external_contact": therapy.get("external_contact", ""),
        "modality": therapy.get("modality", ""),
        "frequency": therapy.get("frequency", ""),
        "integration_planned": integration.get("planned", False),
        "integration_therapist": str(integration.get("therapist_id") or ""),
        "integration_timing": integration.get("timing", ""),
        "medications": content.get("medications", ""),
    }
    for area in LIFESTYLE_AREAS:
        initial[f"lifestyle_{area}"] = content.get("lifestyle", {}).get(area, "")
    for section in SECTIONS:
        initial[f"safety_{section.key}"] = "\n".join(
            content.get("safety_plan", {}).get(section.key, [])
        )
    return initial


def goals_initial(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "text": g["text"],
            "kind": g["kind"],
            "instrument": g.get("instrument", ""),
            "comparator": g.get("comparator", Comparator.LT.value),
            "threshold": g.get("threshold"),
            "target": g.get("target", ""),
            "target_date": g.get("target_date") or None,
        }
        for g in content.get("goals", [])
    ]


def _kept(formset: Any) -> list[dict[str, Any]]:
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


def _int_or_none(raw: str) -> int | None:
    return int(raw) if raw else None


def content_from(plan_form: PlanForm, problems: Any, goals: Any) -> dict[str, Any]:
    """The version's content from the valid forms."""
    data = plan_form.cleaned_data
    provider = data["therapy_provider"]
    goal_rows = []
    for number, goal in enumerate(_kept(goals), start=1):
        scale = goal["kind"] == MeasureKind.SCALE.value
        goal_rows.append(
            {
                "key": f"g{number}",
                "text": goal["text"].strip(),
                "kind": goal["kind"],
                "instrument": goal["instrument"] if scale else "",
                "comparator": goal["comparator"] if scale else "",
                "threshold": goal["threshold"] if scale else None,
                "target": "" if scale else goal["target"].strip(),
                "target_date": ""
                if scale or not goal["target_date"]
                else goal["target_date"].isoformat(),
            }
        )
    return {
        "problems": [p["text"].strip() for p in _kept(problems)],
        "goals": goal_rows,
        "course_id": data["course"] or "",
        "psychotherapy": {
            "provider": provider,
            "therapist_id": _int_or_none(data["therapy_therapist"])
            if provider == "in_house"
            else None,
            "external_name": data["external_name"].strip() if provider == "external" else "",
            "external_contact": data["external_contact"].strip() if provider == "external" else "",
            "modality": data["modality"] if provider != "none" else "",
            "frequency": data["frequency"].strip() if provider != "none" else "",
        },
        "integration": {
            "planned": bool(data["integration_planned"]),
            "therapist_id": _int_or_none(data["integration_therapist"])
            if data["integration_planned"]
            else None,
            "timing": data["integration_timing"].strip() if data["integration_planned"] else "",
        },
        "medications": data["medications"].strip(),
        "lifestyle": {area: data[f"lifestyle_{area}"].strip() for area in LIFESTYLE_AREAS},
        "safety_plan": {s.key: lines(data[f"safety_{s.key}"]) for s in SECTIONS},
    }


class CheckInForm(forms.Form):
    area = forms.ChoiceField(label="Area", choices=LifestyleArea.choices)
    note = forms.CharField(
        label="How it is going", max_length=2000, widget=forms.Textarea({"rows": 2})
    )


class IntegrationNoteForm(forms.Form):
    session_on = forms.DateField(
        label="Session date", widget=forms.DateInput(attrs={"type": "date"})
    )
    themes = forms.CharField(label="Themes", max_length=4000, widget=forms.Textarea(TEXTAREA))
    intentions = forms.CharField(
        label="Intentions", required=False, max_length=4000, widget=forms.Textarea(TEXTAREA)
    )
    risk_positive = forms.TypedChoiceField(
        label="Risk check: any thoughts of suicide or self-harm, or other risk, today?",
        choices=[("no", "No"), ("yes", "Yes: tell the prescriber")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    risk_note = forms.CharField(
        label="Risk: what was said and what was done",
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 2}),
    )

    def __init__(self, *args: Any, goals: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goals = goals
        for goal in goals:
            self.fields[f"goal_{goal['key']}"] = forms.CharField(
                label=f"Progress: {goal['text']}",
                required=False,
                max_length=2000,
                widget=forms.Textarea({"rows": 2}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("risk_positive") and not (data.get("risk_note") or "").strip():
            self.add_error("risk_note", "Say what was said and what was done.")
        return data

    def goal_progress(self) -> list[dict[str, str]]:
        return [
            {
                "goal": goal["key"],
                "text": goal["text"],
                "progress": self.cleaned_data[f"goal_{goal['key']}"].strip(),
            }
            for goal in self.goals
        ]


class AddendumForm(forms.Form):
    text = forms.CharField(label="Addendum", max_length=4000, widget=forms.Textarea(TEXTAREA))
