"""A patient's safety flag as an R4 Flag: active until a clinician acknowledges it."""

from __future__ import annotations

from typing import Any

from ketaclinic.patients.models import FlagStatus, SafetyFlag

FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"


def flag_status(flag: SafetyFlag) -> str:
    return "active" if flag.status == FlagStatus.ACTIVE else "inactive"


def flag_json(flag: SafetyFlag, base: str) -> dict[str, Any]:
    period: dict[str, str] = {"start": flag.opened_at.isoformat()}
    if flag.acknowledged_at is not None:
        period["end"] = flag.acknowledged_at.isoformat()
    return {
        "resourceType": "Flag",
        "id": str(flag.pk),
        "status": flag_status(flag),
        "category": [
            {
                "coding": [
                    {"system": FLAG_CATEGORY_SYSTEM, "code": "clinical", "display": "Clinical"}
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": f"{base}/CodeSystem/safety-flag",
                    "code": flag.code,
                    "display": flag.title,
                }
            ],
            "text": flag.title,
        },
        "subject": {"reference": f"Patient/{flag.patient_id}"},
        "period": period,
    }
