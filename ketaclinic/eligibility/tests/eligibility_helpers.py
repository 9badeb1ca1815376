"""Shared builders for the evaluation, decision, rules and consent tests (and the URL matrix)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from django.test import Client
from PIL import Image, ImageDraw

from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentDocument
from ketaclinic.eligibility import services as evaluation_services
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic
from ketaclinic.testing.shipped import shipped_data_ensure

# Meets every requirement of the shipped rules: an anxiety diagnosis, two adequate trials
# (sertraline 150 mg for 10 weeks, 12 sessions of CBT), blood pressure recorded and normal.
ELIGIBLE_EVALUATION: dict[str, Any] = {
    "diagnoses": ["F41.1"],
    "baseline_scores": {"gad7": 17, "hama": 28},
    "prior_treatments": [
        {
            "kind": "medication",
            "name": "sertraline",
            "drug_class": "SSRI",
            "daily_dose_mg": 150,
            "weeks": 10,
            "response": "partial",
            "side_effects": "nausea",
        },
        {"kind": "psychotherapy", "name": "CBT", "sessions": 12},
    ],
    "medical_history": "Asthma in childhood.",
    "medications": [{"name": "sertraline", "drug_class": "SSRI"}],
    "allergies": ["penicillin"],
    "vitals": {
        "systolic": 122,
        "diastolic": 78,
        "heart_rate": 70,
        "spo2": 98,
        "weight_kg": 70.5,
        "height_cm": 172,
    },
    "contraindications": [],
    "notes": "Synthetic evaluation.",
}

# The same, with glaucoma ticked: a relative contraindication, so the proposal needs review.
GLAUCOMA_EVALUATION: dict[str, Any] = ELIGIBLE_EVALUATION | {"contraindications": ["glaucoma"]}

# Pregnancy is an absolute contraindication: the proposal is not eligible.
PREGNANT_EVALUATION: dict[str, Any] = ELIGIBLE_EVALUATION | {"contraindications": ["pregnancy"]}


def shipped_rows_ensure() -> None:
    """The data migration's rule set and documents; a transactional test's flush removes them
    for later tests."""
    shipped_data_ensure(apps_only=("intake",))


@pytest.fixture(autouse=True)
def eligibility_rows(db: Any) -> None:
    """Imported by each test module of eligibility and consent: the shipped rows are there."""
    shipped_rows_ensure()


def post_json(client: Client, url: str, body: object) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def evaluation_make(
    c: Clinic, patient: Patient | None = None, data: dict[str, Any] | None = None
) -> Evaluation:
    return evaluation_services.evaluation_create(
        acting_user=c.users["ada"],
        patient=patient or c.pat,
        data=data if data is not None else ELIGIBLE_EVALUATION,
    )


def decision_make(
    c: Clinic, patient: Patient | None = None, decision: str = "eligible", rationale: str = ""
) -> EligibilityDecision:
    evaluation = evaluation_make(c, patient)
    return evaluation_services.decision_record(
        acting_user=c.users["ada"], evaluation=evaluation, decision=decision, rationale=rationale
    )


def signature_png(width: int = 300, height: int = 100) -> str:
    """A drawn signature: a dark stroke on a transparent canvas, as the signing page sends."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 60), (80, 20), (150, 70), (290, 30)], fill="#111", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return consent_services.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def blank_png() -> str:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return consent_services.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def current_documents() -> list[ConsentDocument]:
    return list(ConsentDocument.objects.filter(active=True, required=True).order_by("code"))


def consent_all(c: Clinic, patient: Patient | None = None, staff: str = "ben") -> None:
    """A witnessed signature on every current required document."""
    for document in current_documents():
        consent_services.consent_record_witnessed(
            acting_user=c.users[staff],
            patient=patient or c.pat,
            document_id=document.pk,
            signed_name="Pat Example",
        )
