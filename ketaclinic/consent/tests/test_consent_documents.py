"""The administrator's consent documents: every version listed with its signatures, and a new
version added in a form; a version patients signed is never changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.testing import Clinic

LIST_URL = "/intake/consent-documents/"
NEW_URL = "/intake/consent-documents/ketamine_treatment/new-version/"


def _treatment() -> ConsentDocument:
    return ConsentDocument.objects.get(code="ketamine_treatment", active=True)


def _signed(clinic: Clinic, document: ConsentDocument) -> ConsentSignature:
    return consent_services.consent_record_witnessed(
        acting_user=clinic.users["ben"],
        patient=clinic.pat,
        document_id=document.pk,
        signed_name="Pat Example",
    )


def _post(clinic: Clinic, username: str = "dana", **changes: str) -> object:
    current = _treatment()
    data = {
        "title": current.title,
        "body": current.body + "\n\nNew: bring a list of your medicines to every session.",
        "effective_from": timezone.localdate().isoformat(),
        "required": "on",
        **changes,
    }
    return clinic.client(username).post(NEW_URL, data)


def test_the_list_shows_every_document_with_its_versions_and_signatures(clinic: Clinic) -> None:
    _signed(clinic, _treatment())
    page = clinic.client("dana").get(LIST_URL)
    assert page.status_code == 200
    for document in ConsentDocument.objects.all():
        assert document.title.encode() in page.content
    assert b"Signed now" in page.content
    assert NEW_URL.encode() in page.content
    assert b"<td>1</td>" in page.content  # Pat's signature counted


def test_a_new_version_is_in_use_and_the_signed_one_is_unchanged(clinic: Clinic) -> None:
    old = _treatment()
    signature = _signed(clinic, old)
    before = (old.title, old.body, old.digest, old.effective_from, old.required)
    form = clinic.client("dana").get(NEW_URL)
    assert form.status_code == 200
    assert old.body[:40].encode() in form.content
    response = _post(clinic)
    assert response.status_code == 302  # type: ignore[attr-defined]

    new = _treatment()
    assert new.version == old.version + 1
    assert new.body.endswith("bring a list of your medicines to every session.")
    assert new.digest == consent_services.consent_document_digest_of(new)
    assert new.required is True
    old.refresh_from_db()
    assert (old.title, old.body, old.digest, old.effective_from, old.required) == before
    assert old.active is False
    signature.refresh_from_db()
    assert signature.document_id == old.pk and consent_services.signature_verify(signature)
    assert AuditEvent.objects.filter(object_type="ConsentDocument", object_id=str(new.pk)).exists()
    # Pat signed the old version: the new required one is missing for Pat now.
    assert new in consent_services.consent_missing(clinic.pat)


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"title": "  "}, b"This field is required."),
        ({"body": ""}, b"This field is required."),
        ({"effective_from": "31/31/2026"}, b"Enter a valid date."),
        ({"body": "Text with a \u202e direction override"}, b"direction override"),
    ],
)
def test_bad_input_is_refused_beside_the_field_with_nothing_saved(
    clinic: Clinic, changes: dict[str, str], shown: bytes
) -> None:
    count = ConsentDocument.objects.count()
    response = _post(clinic, **changes)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert shown in response.content  # type: ignore[attr-defined]
    assert b"Not saved" in response.content  # type: ignore[attr-defined]
    assert ConsentDocument.objects.count() == count


def test_an_unchanged_text_is_not_a_new_version(clinic: Clinic) -> None:
    current = _treatment()
    with pytest.raises(ValidationError, match="Nothing was changed"):
        consent_services.consent_document_version_add(
            acting_user=clinic.users["dana"],
            code=current.code,
            title=current.title,
            body=current.body,
            required=current.required,
            effective_from=current.effective_from,
        )
    assert _treatment() == current


@pytest.mark.parametrize("username", ["ada", "ben", "cleo", "pat"])
def test_only_the_administrator_manages_consent_documents(clinic: Clinic, username: str) -> None:
    count = ConsentDocument.objects.count()
    assert clinic.client(username).get(LIST_URL).status_code == 403
    assert clinic.client(username).get(NEW_URL).status_code == 403
    assert _post(clinic, username).status_code == 403  # type: ignore[attr-defined]
    assert ConsentDocument.objects.count() == count
    with pytest.raises(PermissionDenied):
        consent_services.consent_document_version_add(
            acting_user=clinic.users[username],
            code="ketamine_treatment",
            title="x",
            body="y",
            required=True,
            effective_from=timezone.localdate(),
        )


def test_an_unknown_document_is_404(clinic: Clinic) -> None:
    assert (
        clinic.client("dana").get("/intake/consent-documents/nothing/new-version/").status_code
        == 404
    )
