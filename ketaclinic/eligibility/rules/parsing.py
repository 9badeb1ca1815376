"""Reading a clinician's evaluation from the issue's JSON shape into an :class:`Evaluation`."""

from __future__ import annotations

from collections.abc import Mapping

from ketaclinic.eligibility.rules.checks import (
    ALL_VITALS,
    WHOLE_VITALS,
    Problems,
    check_amount,
    check_code,
    check_icd_prefix,
    check_list,
    check_object,
    check_optional_whole,
    check_text,
)
from ketaclinic.eligibility.rules.model import (
    Evaluation,
    EvaluationDataError,
    Medication,
    MedicationTrial,
    PriorTreatment,
    PsychotherapyCourse,
    Vitals,
)

# Evaluation fields the clinic records that no rule reads; accepted and left to the caller.
_UNREAD_EVALUATION_KEYS = ("baseline_scores", "medical_history", "allergies")

# Findings that the rules read only as checklist codes. Passing them as separate fields would
# leave the rules blind to them, so they are refused with a pointer to the checklist.
_CHECKLIST_FINDINGS = {
    "pregnancy_status": "pregnancy, breastfeeding",
    "psychosis_history": "current_psychosis, psychosis_history",
    "mania_history": "current_mania",
    "substance_use": "active_substance_use_disorder, substance_use_history",
}


def _prior_treatment(value: object, path: str, problems: Problems) -> PriorTreatment | None:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "medication":
        raw = check_object(
            value,
            path,
            problems,
            required=("kind", "name"),
            optional=("drug_class", "daily_dose_mg", "weeks", "response", "side_effects", "notes"),
        )
        if raw is None:
            return None
        name = check_text(raw["name"], f"{path}.name", problems)
        drug_class = check_text(
            raw.get("drug_class", ""), f"{path}.drug_class", problems, empty=True
        )
        dose = check_amount(raw.get("daily_dose_mg"), f"{path}.daily_dose_mg", problems)
        weeks = check_amount(raw.get("weeks"), f"{path}.weeks", problems)
        response = check_text(raw.get("response", ""), f"{path}.response", problems, empty=True)
        effects = check_text(
            raw.get("side_effects", ""), f"{path}.side_effects", problems, empty=True
        )
        if name is None or drug_class is None or response is None or effects is None:
            return None
        return MedicationTrial(name.strip(), drug_class, dose, weeks, response, effects)
    if kind == "psychotherapy":
        raw = check_object(
            value,
            path,
            problems,
            required=("kind", "name"),
            optional=("sessions", "response", "notes"),
        )
        if raw is None:
            return None
        name = check_text(raw["name"], f"{path}.name", problems)
        sessions = check_optional_whole(raw.get("sessions"), f"{path}.sessions", problems)
        if name is None:
            return None
        return PsychotherapyCourse(name.strip(), sessions)
    problems.add(f"{path}.kind", f"must be 'medication' or 'psychotherapy', not {kind!r}")
    return None


def _medication(value: object, path: str, problems: Problems) -> Medication | None:
    raw = check_object(
        value, path, problems, required=("name",), optional=("drug_class", "daily_dose_mg", "notes")
    )
    if raw is None:
        return None
    name = check_text(raw["name"], f"{path}.name", problems)
    drug_class = check_text(raw.get("drug_class", ""), f"{path}.drug_class", problems, empty=True)
    check_amount(raw.get("daily_dose_mg"), f"{path}.daily_dose_mg", problems)
    if name is None or drug_class is None:
        return None
    return Medication(name.strip(), drug_class)


def _vitals(value: object, path: str, problems: Problems) -> Vitals | None:
    raw = check_object(value, path, problems, required=(), optional=ALL_VITALS)
    if raw is None:
        return None
    whole = {k: check_optional_whole(raw.get(k), f"{path}.{k}", problems) for k in WHOLE_VITALS}
    weight = check_amount(raw.get("weight_kg"), f"{path}.weight_kg", problems)
    height = check_amount(raw.get("height_cm"), f"{path}.height_cm", problems)
    return Vitals(**whole, weight_kg=weight, height_cm=height)


def _diagnosis(value: object, path: str, problems: Problems) -> str | None:
    return check_icd_prefix(value, path, problems)


def evaluation_from_dict(data: Mapping[str, object]) -> Evaluation:
    """An :class:`Evaluation` from the issue's JSON shape; raises :class:`EvaluationDataError`.

    Unknown keys are refused (a misspelt ``contraindication`` must not pass unnoticed);
    evaluation fields that no rule reads (``_UNREAD_EVALUATION_KEYS``) are accepted. History of
    psychosis or mania, substance use and pregnancy are checklist codes in
    ``contraindications``; given as separate fields they are refused, not silently ignored.
    """
    problems = Problems()
    for key, codes in _CHECKLIST_FINDINGS.items():
        if key in data:
            problems.add(key, f"record this on the contraindications checklist ({codes})")
            data = {k: v for k, v in data.items() if k != key}
    raw = check_object(
        dict(data),
        "",
        problems,
        required=(),
        optional=(
            "diagnoses",
            "prior_treatments",
            "medications",
            "contraindications",
            "vitals",
            "notes",
            *_UNREAD_EVALUATION_KEYS,
        ),
    )
    if raw is None:
        raise EvaluationDataError(problems.items)
    diagnoses = check_list(raw.get("diagnoses", []), "diagnoses", problems, _diagnosis, empty=True)
    treatments: tuple[PriorTreatment, ...] | None = check_list(
        raw.get("prior_treatments", []), "prior_treatments", problems, _prior_treatment, empty=True
    )
    medications = check_list(
        raw.get("medications", []), "medications", problems, _medication, empty=True
    )
    ticked = check_list(
        raw.get("contraindications", []), "contraindications", problems, check_code, empty=True
    )
    vitals = None if raw.get("vitals") is None else _vitals(raw["vitals"], "vitals", problems)
    notes = check_text(raw.get("notes", ""), "notes", problems, empty=True)
    if problems.items:
        raise EvaluationDataError(problems.items)
    return Evaluation(
        diagnoses=diagnoses or (),
        prior_treatments=treatments or (),
        medications=medications or (),
        contraindications=frozenset(ticked or ()),
        vitals=vitals,
        notes=notes or "",
    )
