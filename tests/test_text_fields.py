"""Issue 18 item 5: names and clinical text are NFC-normalised and checked on every way in.

On main a patient named only U+200B (zero-width space), or with U+202E (right-to-left
override), a C1 control or a BOM, was created by the page form, the API and the public
inquiry form alike, and "Jose" + U+0301 was stored decomposed (a different string from "José"
for search and comparison).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from ketaclinic.accounts.services import user_create
from ketaclinic.eligibility.models import Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import ELIGIBLE_EVALUATION, post_json
from ketaclinic.intake.models import Inquiry
from ketaclinic.patients.forms import FlagAcknowledgeForm
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

PATIENT = {
    "given_name": "Avery",
    "family_name": "Testcase",
    "birth_date": "1990-01-31",
    "sex_at_birth": "female",
}
BAD_NAMES = {
    "zero_width_space_only": "\u200b",
    "rtl_override": "Smith\u202eReversed",
    "c1_control": "Sm\u0085ith",
    "bom": "\ufeffSmith",
    "lrm_mark": "Smith\u200e",
    "no_letter": "12345",
}


def _api_fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.content[:500]
    return {problem["field"] for problem in response.json()["detail"]}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_the_api_refuses_such_a_patient_name_naming_the_field(clinic: Clinic, name: str) -> None:
    client = clinic.api("ada")
    before = Patient.objects.count()
    created = post_json(client, "/api/v1/patients", PATIENT | {"family_name": name})
    assert _api_fields(created) == {"family_name"}
    assert Patient.objects.count() == before
    patched = client.patch(
        f"/api/v1/patients/{clinic.pat.pk}",
        json.dumps({"given_name": name}),
        content_type="application/json",
    )
    assert _api_fields(patched) == {"given_name"}
    clinic.pat.refresh_from_db()
    assert clinic.pat.given_name == "Pat"


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_the_page_form_refuses_such_a_patient_name(clinic: Clinic, name: str) -> None:
    before = Patient.objects.count()
    response = clinic.client("ada").post("/patients/new/", PATIENT | {"given_name": name})
    assert response.status_code == 200  # the form again, the error beside the field
    form = response.context["form"]
    assert set(form.errors) == {"given_name"}
    assert Patient.objects.count() == before


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_the_public_inquiry_form_and_api_refuse_such_a_name(db: None, name: str) -> None:
    form = {
        "name": name,
        "email": "robin@example.org",
        "preferred_contact": "email",
        "consent_to_contact": "on",
    }
    page = Client().post("/clinic/inquiry/", form)
    assert page.status_code == 200
    assert set(page.context["form"].errors) == {"name"}
    body = {"name": name, "email": "robin@example.org", "consent_to_contact": True}
    api = Client().post("/api/v1/inquiries", json.dumps(body), content_type="application/json")
    assert _api_fields(api) == {"name"}
    assert not Inquiry.objects.exists()


def test_a_names_error_says_what_is_wrong_without_echoing_it(clinic: Clinic) -> None:
    created = post_json(
        clinic.api("ada"), "/api/v1/patients", PATIENT | {"family_name": "Zyx\u202eQwerty"}
    )
    (problem,) = created.json()["detail"]
    assert "text-direction override (U+202E" in problem["msg"]
    assert "Zyx" not in created.content.decode()


def test_names_are_stored_in_nfc_from_the_form_the_api_and_the_inquiry(clinic: Clinic) -> None:
    decomposed = "Jose\u0301"
    composed = "Jos\u00e9"
    page = clinic.client("ada").post(
        "/patients/new/", PATIENT | {"given_name": decomposed, "family_name": "Pageform"}
    )
    assert page.status_code == 302
    assert Patient.objects.get(family_name="Pageform").given_name == composed
    api = post_json(
        clinic.api("ada"),
        "/api/v1/patients",
        PATIENT | {"given_name": decomposed, "family_name": "Viaapi"},
    )
    assert api.status_code == 201, api.content
    assert Patient.objects.get(family_name="Viaapi").given_name == composed
    body = {"name": f"{decomposed} Asker", "email": "j@example.org", "consent_to_contact": True}
    inquiry = Client().post("/api/v1/inquiries", json.dumps(body), content_type="application/json")
    assert inquiry.status_code == 201, inquiry.content
    assert Inquiry.objects.get().name == f"{composed} Asker"


def test_persian_names_keep_their_zero_width_non_joiner(clinic: Clinic) -> None:
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647"
    api = post_json(clinic.api("ada"), "/api/v1/patients", PATIENT | {"family_name": name})
    assert api.status_code == 201, api.content
    assert Patient.objects.get(pk=api.json()["id"]).family_name == name


def test_clinical_free_text_refuses_overrides_but_keeps_line_breaks(clinic: Clinic) -> None:
    url = f"/api/v1/patients/{clinic.pat.pk}/evaluations"
    bad = post_json(clinic.api("ada"), url, ELIGIBLE_EVALUATION | {"notes": "calm\u202e today"})
    assert bad.status_code == 422, bad.content
    assert [p["field"] for p in bad.json()["detail"]] == ["notes"]
    assert not Evaluation.objects.exists()
    good = post_json(
        clinic.api("ada"), url, ELIGIBLE_EVALUATION | {"notes": "Calm.\nSlept well, Jose\u0301."}
    )
    assert good.status_code == 201, good.content
    assert Evaluation.objects.get().input_json["notes"] == "Calm.\nSlept well, Jos\u00e9."


def test_a_page_forms_clinical_note_refuses_a_c1_control_and_keeps_line_breaks() -> None:
    refused = FlagAcknowledgeForm({"note": "called\u009b back"})
    assert not refused.is_valid()
    assert "control character (U+009B)" in refused.errors["note"][0]
    kept = FlagAcknowledgeForm({"note": "Called back.\r\nSafety plan reviewed."})
    assert kept.is_valid(), kept.errors


@pytest.mark.parametrize("username", ["ben\u200b", "b\u202een", "be\u0085n", "\ufeffben2"])
def test_a_user_name_with_such_characters_is_refused(db: None, username: str) -> None:
    # Django's username validator (letters, digits and @.+-_ only) already refuses them.
    with pytest.raises(ValidationError) as refused:
        user_create(
            acting_user=None, username=username, role="nurse", password="a-long-passphrase-1"
        )
    assert "username" in refused.value.message_dict
