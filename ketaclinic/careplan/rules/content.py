"""The shape of a version's content (what the editor's forms write) and what is read from it.

content = {
  "problems": [str, ...],
  "goals": [{"key", "text", "kind": "scale"|"target", "instrument", "comparator",
             "threshold", "target", "target_date": "YYYY-MM-DD" | ""}, ...],
  "course_id": str,                       # the patient's course of ketamine ("" none)
  "psychotherapy": {"provider": "none"|"in_house"|"external", "therapist_id": int|None,
                    "external_name", "external_contact", "modality", "frequency"},
  "integration": {"planned": bool, "therapist_id": int|None, "timing": str},
  "medications": str,
  "lifestyle": {"sleep", "exercise", "alcohol", "substances": str},
  "safety_plan": {section key: [str, ...]},
}
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ketaclinic.careplan.rules.goals import (
    Comparator,
    MeasureKind,
    ScaleMeasure,
    TargetMeasure,
)
from ketaclinic.careplan.rules.safety_plan import SECTION_KEYS
from ketaclinic.careplan.rules.versions import SignCheck

LIFESTYLE_AREAS = ("sleep", "exercise", "alcohol", "substances")

MODALITIES: tuple[tuple[str, str], ...] = (
    ("cbt", "CBT (cognitive behavioural therapy)"),
    ("erp", "ERP (exposure and response prevention)"),
    ("act", "ACT (acceptance and commitment therapy)"),
    ("dbt", "DBT (dialectical behaviour therapy)"),
    ("psychodynamic", "Psychodynamic therapy"),
    ("other", "Other"),
)


def empty() -> dict[str, Any]:
    return {
        "problems": [],
        "goals": [],
        "course_id": "",
        "psychotherapy": {
            "provider": "none",
            "therapist_id": None,
            "external_name": "",
            "external_contact": "",
            "modality": "",
            "frequency": "",
        },
        "integration": {"planned": False, "therapist_id": None, "timing": ""},
        "medications": "",
        "lifestyle": dict.fromkeys(LIFESTYLE_AREAS, ""),
        "safety_plan": {key: [] for key in SECTION_KEYS},
    }


def goal_measure(goal: dict[str, Any]) -> ScaleMeasure | TargetMeasure:
    if goal.get("kind") == MeasureKind.SCALE.value:
        return ScaleMeasure(
            instrument=str(goal["instrument"]),
            comparator=Comparator(goal["comparator"]),
            threshold=int(goal["threshold"]),
        )
    raw = goal.get("target_date") or ""
    return TargetMeasure(
        target=str(goal.get("target", "")),
        target_date=date.fromisoformat(raw) if raw else None,
    )


def therapist_ids(content: dict[str, Any]) -> set[int]:
    """The in-house therapists the plan names: they may read it and write integration notes."""
    ids: set[int] = set()
    therapy = content.get("psychotherapy", {})
    if therapy.get("provider") == "in_house" and therapy.get("therapist_id"):
        ids.add(int(therapy["therapist_id"]))
    integration = content.get("integration", {})
    if integration.get("planned") and integration.get("therapist_id"):
        ids.add(int(integration["therapist_id"]))
    return ids


def sign_check(content: dict[str, Any], review_on: date | None) -> SignCheck:
    return SignCheck(
        problems=len(content.get("problems", [])),
        goals=len(content.get("goals", [])),
        review_on=review_on,
        safety_plan=content.get("safety_plan", {}),
    )
