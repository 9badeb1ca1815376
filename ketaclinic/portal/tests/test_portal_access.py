"""Every portal URL with another patient's ids answers 404, exactly as an id that does not
exist, and stores nothing; staff get 403 on the patient's pages; a patient cannot invite."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from ketaclinic.infusions.models import Session
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.portal.models import ContactChange, RideConfirmation
from ketaclinic.scales.models import Administration, RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import Clinic

# The portal's routes that take an id or a code, and the ones that take none (the patient's
# own record is the account's, never the URL's). A new route must be added to one of them.
WITH_IDS = {"sessions/<uuid:session_id>/ride/", "questionnaires/<slug:code>/"}
WITHOUT_IDS = {"", "questionnaires-sent/", "scores/", "contact/"}
# Secure messages (ketaclinic/messaging/): another patient's thread or attachment answers
# 404 (ketaclinic/messaging/tests/test_portal_message_access.py).
WITH_IDS |= {"messages/<uuid:thread_id>/", "messages/attachments/<uuid:attachment_id>/"}
WITHOUT_IDS |= {"messages/", "messages/new/"}
# The patient's documents (ketaclinic/letters/tests/test_portal_documents.py tests these ids
# against another patient's: 404).
WITH_IDS |= {
    "documents/letters/<uuid:letter_id>/",
    "documents/sessions/<uuid:session_id>/after/",
}
WITHOUT_IDS |= {"documents/"}
NOT_THE_PATIENTS = {
    "welcome/": "the start of an invitation link; no login",
    "welcome/<str:uidb64>/<str:token>/": "the invitation link: its token is the key",
    "invite/<uuid:patient_id>/": "staff's invite button (a patient gets 403)",
}


def _portal_routes() -> set[str]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "portal/":
            return {str(p.pattern) for p in entry.url_patterns if isinstance(p, URLPattern)}
    raise AssertionError("no portal/ in the URLconf")


def test_every_portal_route_is_listed_here() -> None:
    assert _portal_routes() == WITH_IDS | WITHOUT_IDS | set(NOT_THE_PATIENTS)


def test_another_patients_session_answers_404_like_a_missing_one(clinic: Clinic) -> None:
    quinns = session_make(clinic, start=timezone.now() + timedelta(days=1), patient=clinic.quinn)
    session_make(clinic, start=timezone.now() + timedelta(days=2), chair="Chair 2")  # Pat's
    pat = clinic.client("pat")
    for session_id in (quinns.pk, uuid.uuid4()):
        url = f"/portal/sessions/{session_id}/ride/"
        assert pat.get(url).status_code == 404
        assert pat.post(url, {"confirm": "on", "escort_name": "X"}).status_code == 404
    assert not RideConfirmation.objects.exists()
    # Quinn's session is nowhere on Pat's pages.
    assert str(quinns.pk) not in pat.get("/portal/").content.decode()


def test_another_patients_due_questionnaire_answers_404(clinic: Clinic) -> None:
    schedule_create(
        acting_user=clinic.users["ada"],
        patient=clinic.quinn,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
    )
    pat = clinic.client("pat")
    assert pat.get("/portal/questionnaires/gad7/").status_code == 404
    answers = {f"gad7-{i}": "1" for i in range(1, 8)}
    assert pat.post("/portal/questionnaires/gad7/", answers).status_code == 404
    assert not Administration.objects.exists()
    assert clinic.client("quinn").get("/portal/questionnaires/gad7/").status_code == 200


def test_a_patient_sees_only_their_own_data_on_the_id_less_pages(clinic: Clinic) -> None:
    from ketaclinic.scales.services import administration_record

    administration_record(
        acting_user=clinic.users["ben"],
        patient=clinic.quinn,
        instrument_code="gad7",
        answers={str(i): 3 for i in range(1, 8)},
        administered_at=timezone.now() - timedelta(days=1),
    )
    pat = clinic.client("pat")
    for route in WITHOUT_IDS:
        page = pat.get(f"/portal/{route}").content.decode()
        for mark in (clinic.quinn.given_name, clinic.quinn.phone, clinic.quinn.email, ">21<"):
            assert mark not in page, (route, mark)
    pat.post("/portal/contact/", {"phone": "555-0999"})
    clinic.quinn.refresh_from_db()
    assert clinic.quinn.phone == "555-0199"
    assert not ContactChange.objects.filter(patient=clinic.quinn).exists()


def test_staff_get_403_on_the_patients_pages(clinic: Clinic) -> None:
    session = session_make(clinic, start=timezone.now() + timedelta(days=1))
    for who in ("ada", "ben", "cleo", "dana"):
        client = clinic.client(who)
        for route in WITHOUT_IDS:
            assert client.get(f"/portal/{route}").status_code == 403, (who, route)
        ride = f"/portal/sessions/{session.pk}/ride/"
        assert client.post(ride, {"confirm": "on"}).status_code == 403
    assert not RideConfirmation.objects.exists()


def test_another_patients_documents_answer_404_like_missing_ones(clinic: Clinic) -> None:
    from ketaclinic.letters.tests.records import signed_letter

    letter = signed_letter(clinic, clinic.quinn)
    session = Session.objects.filter(course__patient=clinic.quinn).first()
    assert session is not None
    pat = clinic.client("pat")
    for url in (
        f"/portal/documents/letters/{letter.pk}/",
        f"/portal/documents/letters/{uuid.uuid4()}/",
        f"/portal/documents/sessions/{session.pk}/after/",
        f"/portal/documents/sessions/{uuid.uuid4()}/after/",
    ):
        assert pat.get(url).status_code == 404, url
    assert clinic.client("quinn").get(f"/portal/documents/letters/{letter.pk}/").status_code == 200
