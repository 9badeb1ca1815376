"""The patient's own pages: next sessions with preparation from the protocol data, the ride
home confirmation the nurse sees at check-in, due questionnaires answered in the portal
(PHQ-9 item 9 flags and the crisis notice as on the link page), score trends in words, and
contact details the patient edits (audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.courses.models import Protocol
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.portal.models import ContactChange, RideConfirmation
from ketaclinic.scales.models import Administration, AdministrationMode, RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic

GAD7_MILD = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 0, "7": 0}


def _schedule(clinic: Clinic, code: str, patient: Patient | None = None) -> None:
    schedule_create(
        acting_user=clinic.users["ada"],
        patient=patient or clinic.pat,
        instrument_code=code,
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
        starts_on=timezone.localdate() - timedelta(days=1),
    )


def _tomorrow_at_nine() -> Any:
    moment = timezone.localtime() + timedelta(days=1)
    return moment.replace(hour=9, minute=0, second=0, microsecond=0)


def test_home_lists_next_sessions_with_preparation_from_the_protocol(clinic: Clinic) -> None:
    session_make(clinic, start=_tomorrow_at_nine())
    page = clinic.client("pat").get("/portal/").content.decode()
    assert "Your next sessions" in page
    # IV protocol: no food 360 min, no drinks 120 min before (protocol JSON "preparation").
    assert "Do not eat after <strong>03:00</strong>" in page
    assert "after <strong>07:00</strong>" in page
    assert "Someone must take you home" in page
    assert "Do not drive" in page
    assert "Confirm I have a ride home" in page
    for staff_word in ("MRN", clinic.pat.mrn, "Eligibility", "Chair 1", "induction"):
        assert staff_word not in page


def test_esketamine_session_shows_its_own_fasting_times(clinic: Clinic) -> None:
    session_make(clinic, start=_tomorrow_at_nine(), code=INTRANASAL_ESKETAMINE_56_MG)
    page = clinic.client("pat").get("/portal/").content.decode()
    assert "Do not eat after <strong>07:00</strong>" in page  # 2 h (Spravato label)
    assert "after <strong>08:30</strong>" in page  # 30 min


def test_a_protocol_version_without_preparation_says_to_ask_the_clinic(clinic: Clinic) -> None:
    session = session_make(clinic, start=_tomorrow_at_nine())
    import json

    protocol = session.course.protocol
    data = json.loads(protocol.definition_json)
    data.pop("preparation")
    Protocol.objects.filter(pk=protocol.pk).update(definition_json=json.dumps(data))
    page = clinic.client("pat").get("/portal/").content.decode()
    assert "Ask the clinic when to stop eating and drinking" in page
    assert "Someone must take you home" in page


def test_past_and_cancelled_sessions_are_not_listed(clinic: Clinic) -> None:
    session_make(clinic, start=timezone.now() - timedelta(days=2))
    cancelled = session_make(clinic, start=_tomorrow_at_nine())
    Session.objects.filter(pk=cancelled.pk).update(status="cancelled")
    page = clinic.client("pat").get("/portal/").content.decode()
    assert "No sessions booked" in page


def test_patient_confirms_a_ride_and_the_nurse_sees_it_at_check_in(clinic: Clinic) -> None:
    session = session_make(clinic)
    chart_url = f"/infusions/sessions/{session.pk}/"
    before = clinic.client("ben").get(chart_url).content.decode()
    assert "Ride home not confirmed by the patient" in before

    pat = clinic.client("pat")
    url = f"/portal/sessions/{session.pk}/ride/"
    assert pat.get(url).status_code == 200
    assert pat.post(url, {"escort_name": ""}).status_code == 422  # the box must be ticked
    response = pat.post(url, {"confirm": "on", "escort_name": "Sam Example"})
    assert response.status_code == 302
    ride = RideConfirmation.objects.get(session=session)
    assert ride.escort_name == "Sam Example"
    assert ride.confirmed_by == clinic.users["pat"]
    assert AuditEvent.objects.filter(
        object_type="RideConfirmation", object_id=ride.pk, action=Action.CREATE
    ).exists()
    assert "Ride home confirmed" in pat.get("/portal/").content.decode()

    after = clinic.client("ben").get(chart_url).content.decode()
    assert "Ride home confirmed by the patient (Sam Example)" in after


def test_a_due_gad7_is_answered_in_the_portal(clinic: Clinic) -> None:
    _schedule(clinic, "gad7")
    pat = clinic.client("pat")
    home = pat.get("/portal/").content.decode()
    assert "/portal/questionnaires/gad7/" in home
    assert "It asks how much worry and anxiety bothered you" in home
    form = pat.get("/portal/questionnaires/gad7/")
    assert form.status_code == 200
    assert "988" in form.content.decode()  # the crisis notice, as on the link page
    data = {f"gad7-{k}": str(v) for k, v in GAD7_MILD.items()}
    response = pat.post("/portal/questionnaires/gad7/", data)
    assert response.status_code == 302
    assert response["Location"] == "/portal/questionnaires-sent/"
    administration = Administration.objects.get(patient=clinic.pat, instrument="gad7")
    assert administration.total == 5
    assert administration.mode == AdministrationMode.PATIENT_SELF
    assert administration.entered_by == clinic.users["pat"]
    # Answered: no longer due, and no longer open to answer.
    assert "/portal/questionnaires/gad7/" not in pat.get("/portal/").content.decode()
    assert pat.get("/portal/questionnaires/gad7/").status_code == 404


def test_only_due_self_report_questionnaires_can_be_answered(clinic: Clinic) -> None:
    pat = clinic.client("pat")
    assert pat.get("/portal/questionnaires/gad7/").status_code == 404  # not due
    assert pat.get("/portal/questionnaires/no-such/").status_code == 404
    _schedule(clinic, "hama")  # clinician-rated: never the patient's to answer
    assert pat.get("/portal/questionnaires/hama/").status_code == 404


def test_an_incomplete_answer_is_refused_with_the_questions_marked(clinic: Clinic) -> None:
    _schedule(clinic, "gad7")
    response = clinic.client("pat").post("/portal/questionnaires/gad7/", {"gad7-1": "1"})
    assert response.status_code == 422
    assert "Some questions need an answer" in response.content.decode()
    assert not Administration.objects.filter(patient=clinic.pat).exists()


@pytest.mark.parametrize("complete", [True, False])
def test_phq9_item9_opens_the_flag_and_shows_the_crisis_notice(
    clinic: Clinic, complete: bool
) -> None:
    _schedule(clinic, "phq9")
    pat = clinic.client("pat")
    answers = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 2}
    if not complete:
        answers = {"1": 2, "9": 3}
    data = {f"phq9-{k}": str(v) for k, v in answers.items()}
    response = pat.post("/portal/questionnaires/phq9/", data, follow=True)
    flag = SafetyFlag.objects.get(patient=clinic.pat, status=FlagStatus.ACTIVE)
    page = response.content.decode()
    assert 'href="tel:988"' in page
    assert "Your care team has been told about your answer" in page
    assert flag.title not in page
    home = pat.get("/portal/").content.decode()
    assert 'href="tel:988"' in home
    assert flag.title not in home


def test_scores_in_plain_words(clinic: Clinic) -> None:
    for days_ago, answers in (
        (20, {"1": 3, "2": 3, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2}),
        (2, GAD7_MILD),
    ):
        administration_record(
            acting_user=clinic.users["ben"],
            patient=clinic.pat,
            instrument_code="gad7",
            answers=answers,
            administered_at=timezone.now() - timedelta(days=days_ago),
        )
    page = clinic.client("pat").get("/portal/scores/").content.decode()
    assert "a lower score means fewer" in page
    assert "how much worry and anxiety bothered you" in page
    assert "Your latest score: <strong>5</strong> (mild)" in page
    assert "Scores go from 0 to 21" in page
    assert "0&ndash;4 minimal · 5&ndash;9 mild · 10&ndash;14 moderate · 15&ndash;21 severe" in page
    assert page.count("<meter") == 2
    assert not AuditEvent.objects.filter(
        actor=clinic.users["quinn"], object_type="Administration"
    ).exists()
    events = AuditEvent.objects.filter(actor=clinic.users["pat"], object_type="Administration")
    assert events.count() == 2


def test_contact_details_change_is_kept_and_audited(clinic: Clinic) -> None:
    pat = clinic.client("pat")
    page = pat.get("/portal/contact/").content.decode()
    assert "555-0100" in page
    response = pat.post(
        "/portal/contact/",
        {
            "email": "pat.new@example.org",
            "phone": "555-0111",
            "address": "1 Synthetic Way, Testville",
            "emergency_contact": "Sam Example, partner, 555-0101",
        },
    )
    assert response.status_code == 302
    clinic.pat.refresh_from_db()
    assert clinic.pat.phone == "555-0111"
    assert clinic.pat.email == "pat.new@example.org"
    clinic.users["pat"].refresh_from_db()
    assert clinic.users["pat"].email == "pat.new@example.org"
    change = ContactChange.objects.get(patient=clinic.pat)
    assert change.before == {"email": "pat@example.org", "phone": "555-0100"}
    assert change.after == {"email": "pat.new@example.org", "phone": "555-0111"}
    assert (
        AuditEvent.objects.filter(
            actor=clinic.users["pat"], action=Action.UPDATE, object_type="Patient"
        ).count()
        == 1
    )
    staff_page = clinic.client("cleo").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert "changed their contact details in the portal" in staff_page


def test_contact_details_refuse_hidden_characters(clinic: Clinic) -> None:
    response = clinic.client("pat").post(
        "/portal/contact/",
        {"email": "", "phone": "555\u202e0111", "address": "", "emergency_contact": ""},
    )
    assert response.status_code == 422
    clinic.pat.refresh_from_db()
    assert clinic.pat.phone == "555-0100"


def test_a_post_that_leaves_a_field_out_keeps_that_field(clinic: Clinic) -> None:
    """Only a field sent empty clears it: a truncated or scripted post loses nothing."""
    clinic.pat.address = "1 Synthetic Way, Testville"
    clinic.pat.save(update_fields=["address"])
    response = clinic.client("pat").post("/portal/contact/", {"phone": "555-0199"})
    assert response.status_code == 302
    clinic.pat.refresh_from_db()
    assert clinic.pat.phone == "555-0199"
    assert clinic.pat.address == "1 Synthetic Way, Testville"
    assert clinic.pat.email == "pat@example.org"
    assert ContactChange.objects.get(patient=clinic.pat).after == {"phone": "555-0199"}


def test_a_new_address_becomes_the_sign_in_name_when_the_old_one_was(clinic: Clinic) -> None:
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    from ketaclinic.testing import PASSWORD

    account = clinic.users["pat"]
    account.username = "pat@example.org"  # as an invitation makes it
    account.save(update_fields=["username"])
    response = clinic.client("pat").post(
        "/portal/contact/",
        {
            "email": "pat.new@example.org",
            "phone": "555-0100",
            "address": "",
            "emergency_contact": "",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.username, account.email) == ("pat.new@example.org", "pat.new@example.org")
    request = RequestFactory().post("/accounts/login/")
    signed_in = authenticate(request, username="pat.new@example.org", password=PASSWORD)
    assert signed_in is not None and signed_in.pk == account.pk


def test_an_address_another_account_signs_in_with_is_refused(clinic: Clinic) -> None:
    account = clinic.users["pat"]
    account.username = "pat@example.org"
    account.save(update_fields=["username"])
    taken = clinic.users["cleo"].username
    other = clinic.users["cleo"]
    other.username = f"{taken}@example.org"
    other.save(update_fields=["username"])
    response = clinic.client("pat").post(
        "/portal/contact/", {"email": f"{taken}@EXAMPLE.org", "phone": "555-0111"}
    )
    assert response.status_code == 422
    assert "Another account already uses this e-mail address." in response.content.decode()
    clinic.pat.refresh_from_db()
    account.refresh_from_db()
    assert clinic.pat.email == "pat@example.org"
    assert account.username == "pat@example.org"


def test_home_queries_do_not_grow_with_sessions_or_questionnaires(clinic: Clinic) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pat = clinic.client("pat")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert pat.get("/portal/").status_code == 200
        return len(queries)

    session_make(clinic, start=_tomorrow_at_nine())
    _schedule(clinic, "gad7")
    one = count()
    for days in (2, 3, 4):
        session_make(clinic, start=_tomorrow_at_nine() + timedelta(days=days), chair=f"C{days}")
    _schedule(clinic, "phq9")
    assert count() == one


@pytest.mark.parametrize(
    "url", ["/account/password/change/", "/account/two_factor/", "/account/two_factor/setup/"]
)
def test_a_patients_account_pages_are_in_the_portal_layout(clinic: Clinic, url: str) -> None:
    """Password and sign-in-code pages: the patient's own layout, never the staff navigation."""
    patient_page = clinic.client("pat").get(url, follow=True)
    assert patient_page.status_code == 200
    html = patient_page.content.decode()
    assert '<body class="portal">' in html
    assert 'class="kc-nav"' not in html
    assert f'Call the clinic on <a href="tel:{settings.KETACLINIC_CLINIC_PHONE}">' in html
    staff_html = clinic.client("cleo").get(url, follow=True).content.decode()
    assert 'class="kc-nav"' in staff_html
    assert '<body class="portal">' not in staff_html
