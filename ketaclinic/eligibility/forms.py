"""The rule-set editor's form, and the evaluation page's forms: the same fields as
``POST /api/v1/patients/{id}/evaluations``.

The page turns what was typed into the API's JSON shape (``evaluation_data``) and hands it to
the same service; errors the service finds come back keyed by JSON path and are put beside
the field that path names (``EvaluationForms.errors_onto``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django import forms
from django.forms import BaseFormSet, formset_factory

from ketaclinic.eligibility.baseline_scores import (
    baseline_score_instruments,
    baseline_score_range_text,
)
from ketaclinic.eligibility.models import DecisionChoice
from ketaclinic.eligibility.rules import RuleSet, checklist_codes
from ketaclinic.eligibility.rules.model import ContraindicationTicked
from ketaclinic.lib.forms import CheckedTextForm

# The anxiety-disorder codes of ICD-10-CM the clinic treats (shared/domain/codes.md). F42
# alone is a header, not a billable code, since October 2016.
DIAGNOSIS_CHOICES: Final = (
    ("F41.1", "F41.1 Generalized anxiety disorder"),
    ("F41.0", "F41.0 Panic disorder without agoraphobia"),
    ("F40.01", "F40.01 Agoraphobia with panic disorder"),
    ("F40.10", "F40.10 Social phobia, unspecified"),
    ("F40.11", "F40.11 Social phobia, generalized"),
    ("F42.2", "F42.2 Mixed obsessional thoughts and acts"),
    ("F42.8", "F42.8 Other obsessive-compulsive disorder"),
    ("F42.9", "F42.9 Obsessive-compulsive disorder, unspecified"),
    ("F41.9", "F41.9 Anxiety disorder, unspecified"),
)

# Baseline scores the page asks for (instrument codes of the scales app).
BASELINE_SCALES: Final = (("gad7", "GAD-7"), ("phq9", "PHQ-9"), ("hama", "HAM-A"))
VITALS: Final = ("systolic", "diastolic", "heart_rate", "spo2", "weight_kg", "height_cm")

TRIAL_ROWS: Final = 4
THERAPY_ROWS: Final = 3
MEDICATION_ROWS: Final = 4

_ROW_PATH = re.compile(r"^(prior_treatments|medications)\[(\d+)\](?:\.(\w+))?$")


def checklist_choices(ruleset: RuleSet) -> list[tuple[str, str]]:
    """The contraindication checklist of the rule set: each code with its rule's description
    where a rule reads it alone, in rule-set order."""
    labels: dict[str, str] = {}
    for rule in ruleset.rules:
        if isinstance(rule.condition, ContraindicationTicked):
            labels.setdefault(rule.condition.code, rule.description)
    for code in sorted(checklist_codes(ruleset)):
        labels.setdefault(code, code.replace("_", " ").capitalize())
    return list(labels.items())


def _amount(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _score_field(code: str, label: str) -> forms.IntegerField:
    """A baseline total, limited to the instrument's range (from its definition, with source)."""
    instrument = baseline_score_instruments()[code]
    message = baseline_score_range_text(instrument)
    return forms.IntegerField(
        label=label,
        min_value=instrument.scoring.min_total,
        max_value=instrument.scoring.max_total,
        required=False,
        help_text=f"Total score, {instrument.scoring.min_total} to {instrument.scoring.max_total}.",
        error_messages={"invalid": message, "min_value": message, "max_value": message},
    )


class EvaluationForm(CheckedTextForm, forms.Form):
    diagnoses = forms.MultipleChoiceField(
        label="Diagnoses (ICD-10-CM)",
        choices=DIAGNOSIS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    gad7 = _score_field("gad7", "GAD-7")
    phq9 = _score_field("phq9", "PHQ-9")
    hama = _score_field("hama", "HAM-A")
    medical_history = forms.CharField(
        label="Medical history",
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    allergies = forms.CharField(
        label="Allergies",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line. Leave empty when the patient knows of none: it is recorded "
        "as no known allergies.",
    )
    contraindications = forms.MultipleChoiceField(
        label="Contraindication checklist",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every finding that applies, including history.",
    )
    systolic = forms.IntegerField(label="Systolic BP (mmHg)", min_value=0, required=False)
    diastolic = forms.IntegerField(label="Diastolic BP (mmHg)", min_value=0, required=False)
    heart_rate = forms.IntegerField(label="Heart rate (/min)", min_value=0, required=False)
    spo2 = forms.IntegerField(label="SpO2 (%)", min_value=0, required=False)
    weight_kg = forms.DecimalField(
        label="Weight (kg)", min_value=Decimal(0), max_digits=6, decimal_places=2, required=False
    )
    height_cm = forms.DecimalField(
        label="Height (cm)", min_value=Decimal(0), max_digits=6, decimal_places=1, required=False
    )
    notes = forms.CharField(
        label="Notes", max_length=20_000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, checklist: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contraindications"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = checklist


class _RowForm(CheckedTextForm, forms.Form):
    """A repeated row: left empty, it is ignored; partly filled, it needs a name."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = any(value not in (None, "") for value in data.values())
        if filled and not data.get("name"):
            self.add_error("name", "Give the name, or empty the whole row.")
        return data

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(value not in (None, "") for value in data.values())


class MedicationTrialForm(_RowForm):
    name = forms.CharField(label="Medication", max_length=100, required=False)
    drug_class = forms.CharField(label="Class (e.g. SSRI)", max_length=40, required=False)
    daily_dose_mg = forms.DecimalField(
        label="Daily dose (mg)",
        min_value=Decimal(0),
        max_digits=8,
        decimal_places=2,
        required=False,
    )
    weeks = forms.DecimalField(
        label="Weeks", min_value=Decimal(0), max_digits=5, decimal_places=1, required=False
    )
    response = forms.CharField(label="Response", max_length=200, required=False)
    side_effects = forms.CharField(label="Side effects", max_length=200, required=False)


class PsychotherapyForm(_RowForm):
    name = forms.CharField(label="Therapy (e.g. CBT)", max_length=100, required=False)
    sessions = forms.IntegerField(label="Sessions", min_value=0, required=False)


class CurrentMedicationForm(_RowForm):
    name = forms.CharField(label="Medication", max_length=100, required=False)
    drug_class = forms.CharField(label="Class", max_length=40, required=False)
    daily_dose_mg = forms.DecimalField(
        label="Daily dose (mg)",
        min_value=Decimal(0),
        max_digits=8,
        decimal_places=2,
        required=False,
    )


TrialFormSet = formset_factory(MedicationTrialForm, extra=TRIAL_ROWS, max_num=20)
TherapyFormSet = formset_factory(PsychotherapyForm, extra=THERAPY_ROWS, max_num=20)
MedicationFormSet = formset_factory(CurrentMedicationForm, extra=MEDICATION_ROWS, max_num=30)


def _rows(formset: BaseFormSet[Any]) -> list[forms.Form]:
    return [form for form in formset.forms if not form.is_blank()]


@dataclass
class EvaluationForms:
    """The evaluation form and its three repeated-row formsets, bound or not."""

    main: EvaluationForm
    trials: BaseFormSet[Any]
    therapies: BaseFormSet[Any]
    medications: BaseFormSet[Any]

    @classmethod
    def build(cls, data: Any, checklist: list[tuple[str, str]]) -> EvaluationForms:
        return cls(
            main=EvaluationForm(data, checklist=checklist),
            trials=TrialFormSet(data, prefix="trial"),
            therapies=TherapyFormSet(data, prefix="therapy"),
            medications=MedicationFormSet(data, prefix="medication"),
        )

    def is_valid(self) -> bool:
        results = [f.is_valid() for f in (self.main, self.trials, self.therapies, self.medications)]
        return all(results)

    def evaluation_data(self) -> dict[str, Any]:
        """The API's JSON shape of what was typed (empty fields and rows left out)."""
        main = self.main.cleaned_data
        data: dict[str, Any] = {"diagnoses": list(main["diagnoses"])}
        scores = {code: main[code] for code, _ in BASELINE_SCALES if main[code] is not None}
        if scores:
            data["baseline_scores"] = scores
        prior: list[dict[str, Any]] = []
        for row in _rows(self.trials):
            trial = {"kind": "medication", **_filled(row.cleaned_data)}
            prior.append(trial)
        for row in _rows(self.therapies):
            prior.append({"kind": "psychotherapy", **_filled(row.cleaned_data)})
        data["prior_treatments"] = prior
        if main["medical_history"]:
            data["medical_history"] = main["medical_history"]
        data["medications"] = [_filled(row.cleaned_data) for row in _rows(self.medications)]
        data["allergies"] = _lines(main["allergies"])
        vitals = {name: _value(main[name]) for name in VITALS if main[name] is not None}
        if vitals:
            data["vitals"] = vitals
        data["contraindications"] = list(main["contraindications"])
        data["notes"] = main["notes"]
        return data

    def errors_onto(self, problems: dict[str, list[str]]) -> None:
        """Put the service's errors (keyed by JSON path) beside the fields they name."""
        rows = [*_rows(self.trials), *_rows(self.therapies)]
        medications = _rows(self.medications)
        for path, messages in problems.items():
            target, field = self._target(path, rows, medications)
            for message in messages:
                text = message if field is not None else f"{path}: {message}"
                target.add_error(field, text)

    def _target(
        self, path: str, rows: list[forms.Form], medications: list[forms.Form]
    ) -> tuple[forms.Form, str | None]:
        match = _ROW_PATH.match(path)
        if match:
            group = rows if match.group(1) == "prior_treatments" else medications
            index = int(match.group(2))
            if index < len(group):
                form = group[index]
                field = match.group(3)
                return form, field if field in form.fields else None
        head, _, tail = path.partition(".")
        if head == "vitals" and tail in self.main.fields:
            return self.main, tail
        if head == "baseline_scores" and tail in self.main.fields:
            return self.main, tail
        name = re.sub(r"\[\d+\]$", "", head)
        if name in self.main.fields and not tail:
            return self.main, name
        return self.main, None


def _value(value: Any) -> Any:
    return _amount(value) if isinstance(value, Decimal) else value


def _filled(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in cleaned.items() if v not in (None, "")}


class DecisionForm(CheckedTextForm, forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=DecisionChoice.choices, widget=forms.RadioSelect
    )
    rationale = forms.CharField(
        label="Rationale",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the decision goes against the proposal (or the proposal "
        "needs review).",
    )


class RuleSetForm(forms.Form):
    rules_json = forms.CharField(
        label="Rule set (JSON)",
        max_length=200_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "mono", "spellcheck": "false"}),
        help_text='Give the edited rule set a new "version". Proposals already made keep the '
        "version they were made with.",
    )
    note = forms.CharField(
        label="What changed, and on what authority",
        max_length=500,
        help_text="E.g. the medical director's decision of 2026-01-05.",
    )
