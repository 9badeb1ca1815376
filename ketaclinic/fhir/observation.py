"""An administration's score as an R4 Observation (category survey), built once at write time.

The value is the total (``valueInteger``) with its band as interpretation, or for C-SSRS the
risk level (``valueCodeableConcept``, LOINC 93374-7); each subscale total is a ``component``
(our code system ``scale-subscale``); ``derivedFrom`` the QuestionnaireResponse.
"""

from __future__ import annotations

import re
from typing import Any

from ketaclinic.fhir.questionnaire import builtin_id
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.scales.instruments import Instrument
from ketaclinic.scales.models import Administration

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"


def observation_code(instrument: Instrument, base: str) -> tuple[str, str]:
    """(system, code) of the Observation: LOINC where one exists, else our code system."""
    if instrument.scoring.method == "risk_level" and instrument.risk and instrument.risk.loinc:
        return LOINC, instrument.risk.loinc
    if instrument.loinc_total:
        return LOINC, instrument.loinc_total
    return f"{base}/CodeSystem/scale-score", builtin_id(instrument.code)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def observation_json(
    *,
    resource_id: str,
    administration: Administration,
    instrument: Instrument,
    response_id: str,
    base: str,
) -> dict[str, Any]:
    system, code = observation_code(instrument, base)
    what = "risk level" if instrument.scoring.method == "risk_level" else "total score"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "category": [
            {"coding": [{"system": CATEGORY_SYSTEM, "code": "survey", "display": "Survey"}]}
        ],
        "code": {
            "coding": [{"system": system, "code": code, "display": f"{instrument.name} {what}"}],
            "text": f"{instrument.name} {what}",
        },
        "subject": {"reference": f"Patient/{administration.patient_id}"},
        "effectiveDateTime": administration.administered_at.isoformat(),
        "issued": administration.created_at.isoformat(),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id}"}],
    }
    if administration.total is not None:
        resource["valueInteger"] = administration.total
    elif administration.risk_level:
        resource["valueCodeableConcept"] = {"text": administration.risk_level}
    components = [
        {
            "code": {
                "coding": [
                    {
                        "system": f"{base}/CodeSystem/scale-subscale",
                        "code": f"{builtin_id(instrument.code)}-{_slug(subscale.name)}",
                        "display": subscale.name,
                    }
                ],
                "text": subscale.name,
            },
            "valueInteger": administration.subscales[subscale.name],
        }
        for subscale in instrument.subscales
        if subscale.name in administration.subscales
    ]
    if components:
        resource["component"] = components
    band = administration.band or administration.risk_level
    if band:
        resource["interpretation"] = [
            {
                "coding": [
                    {
                        "system": f"{base}/CodeSystem/scale-band",
                        "code": f"{builtin_id(instrument.code)}-{_slug(band)}",
                        "display": band,
                    }
                ],
                "text": band,
            }
        ]
    return resource
