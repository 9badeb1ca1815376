"""URLs and bodies for the eligibility and consent rows of tests/test_url_matrix.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.eligibility.models import Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import (
    ELIGIBLE_EVALUATION,
    current_documents,
    evaluation_make,
    shipped_rows_ensure,
    signature_png,
)
from ketaclinic.testing import Clinic


def patient_url(suffix: str) -> Callable[[Clinic], str]:
    """A URL of Pat's, with the shipped rules and documents present (a flush removes them)."""

    def build(c: Clinic) -> str:
        shipped_rows_ensure()
        return f"/api/v1/patients/{c.pat.pk}{suffix}"

    return build


def patient_id(c: Clinic) -> str:
    """Pat's id, with the shipped rules present (the evaluation form reads the checklist)."""
    shipped_rows_ensure()
    return str(c.pat.pk)


def evaluation_page_url(c: Clinic, suffix: str = "") -> str:
    shipped_rows_ensure()
    found = Evaluation.objects.filter(patient=c.pat).order_by("-created_at", "-id").first()
    return f"/intake/evaluations/{(found or evaluation_make(c)).pk}/{suffix}"


def evaluation_body(_: Clinic) -> dict[str, Any]:
    return ELIGIBLE_EVALUATION


def evaluation_url(c: Clinic, suffix: str = "") -> str:
    shipped_rows_ensure()
    found = Evaluation.objects.filter(patient=c.pat).order_by("-created_at", "-id").first()
    return f"/api/v1/evaluations/{(found or evaluation_make(c)).pk}{suffix}"


def decision_body(_: Clinic) -> dict[str, Any]:
    return {"decision": "eligible", "rationale": "Matrix"}


def witnessed_body(_: Clinic) -> dict[str, Any]:
    return {"document": current_documents()[0].pk, "signed_name": "Pat Example"}


def signature_pdf_url(c: Clinic) -> str:
    shipped_rows_ensure()
    signature = ConsentSignature.objects.filter(patient=c.pat).first()
    if signature is None:
        signature = consent_services.consent_record_witnessed(
            acting_user=c.users["ben"],
            patient=c.pat,
            document_id=current_documents()[0].pk,
            signed_name="Pat Example",
        )
    return f"/intake/consents/{signature.pk}/pdf/"


def link_url(c: Clinic) -> str:
    shipped_rows_ensure()
    issued = consent_services.consent_link_create(acting_user=c.users["ben"], patient=c.pat)
    return f"/intake/sign/{issued.token}/"


def sign_form(_: Clinic) -> dict[str, Any]:
    return {"signed_name": "Pat Example", "signature": signature_png(), "agree": "on"}


def consent_documents_url(_: Clinic) -> str:
    shipped_rows_ensure()
    return "/api/v1/consent-documents"
