"""Intake's board and inquiry pages: columns with counts, spam kept apart, due follow-ups at
the top, contact attempts, status changes with history, and conversion into a patient record
(prefilled, audited, once)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.eligibility.tests.eligibility_helpers import (
    decision_make,
    evaluation_make,
)
from ketaclinic.intake.models import ContactAttempt, Inquiry, InquiryStatus, InquiryStatusChange
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

BOARD = "/intake/inquiries/"


def _inquiry(**fields: Any) -> Inquiry:
    values: dict[str, Any] = {
        "name": "Robin Asker",
        "email": "robin@example.org",
        "phone": "555-0142",
        "preferred_contact": "phone",
        "concerns": ["social_anxiety"],
        "message": "Could I be a candidate?",
        "consent_to_contact": True,
    }
    values.update(fields)
    return Inquiry.objects.create(**values)


def _url(inquiry: Inquiry, suffix: str = "") -> str:
    return f"/intake/inquiries/{inquiry.pk}/{suffix}"


def _events_after(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def _last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


# -- the board ---------------------------------------------------------------------------------


def test_board_groups_inquiries_by_status_with_counts(clinic: Clinic) -> None:
    _inquiry(name="Nora New")
    _inquiry(name="Carl Contacted", status=InquiryStatus.CONTACTED)
    _inquiry(name="Cora Contacted", status=InquiryStatus.CONTACTED)
    _inquiry(name="Dee Declined", status=InquiryStatus.DECLINED)
    response = clinic.client("cleo").get(BOARD)
    assert response.status_code == 200
    columns = {c.status: c for c in response.context["board"].columns}
    assert list(columns) == InquiryStatus.values
    assert columns["new"].count == 1
    assert columns["contacted"].count == 2
    assert [i.name for i in columns["contacted"].inquiries] == ["Cora Contacted", "Carl Contacted"]
    assert columns["declined"].count == 1
    assert columns["eligible"].count == 0
    html = response.content.decode()
    assert 'id="column-contacted">Contacted <span class="count">(2)</span>' in html
    assert "Screening booked" in html and "Not eligible" in html


def test_board_keeps_spam_out_and_lists_it_on_its_own_page(clinic: Clinic) -> None:
    _inquiry(name="Real Person")
    spam = _inquiry(name="Cheap Pills", is_spam=True)
    client = clinic.client("cleo")
    html = client.get(BOARD).content.decode()
    assert "Cheap Pills" not in html
    assert "1 marked as spam" in html
    spam_page = client.get(BOARD, {"spam": "1"}).content.decode()
    assert "Cheap Pills" in spam_page
    assert "Real Person" not in spam_page
    assert _url(spam) in spam_page


def test_unmarking_spam_puts_the_inquiry_on_the_board_and_is_audited(clinic: Clinic) -> None:
    spam = _inquiry(name="Actually Real", is_spam=True)
    client = clinic.client("cleo")
    before = _last_seq()
    response = client.post(_url(spam, "spam/"), {"is_spam": "0"})
    assert response.status_code == 302
    spam.refresh_from_db()
    assert spam.is_spam is False
    assert [(e.action, e.object_type, e.patient_id) for e in _events_after(before)] == [
        (Action.READ, "Inquiry", None),
        (Action.UPDATE, "Inquiry", None),
    ]
    assert "Actually Real" in client.get(BOARD).content.decode()
    assert client.post(_url(spam, "spam/"), {"is_spam": "1"}).status_code == 302
    spam.refresh_from_db()
    assert spam.is_spam is True


def test_due_and_overdue_follow_ups_are_listed_at_the_top(clinic: Clinic) -> None:
    today = timezone.localdate()
    overdue = _inquiry(name="Olive Overdue", follow_up_on=today - timedelta(days=2))
    due = _inquiry(name="Dora Due", status=InquiryStatus.CONTACTED, follow_up_on=today)
    _inquiry(name="Larry Later", follow_up_on=today + timedelta(days=3))
    _inquiry(name="Fin Finished", status=InquiryStatus.CLOSED, follow_up_on=today)
    _inquiry(name="Sam Spam", is_spam=True, follow_up_on=today)
    response = clinic.client("cleo").get(BOARD)
    due_list = response.context["board"].due
    assert [(d.inquiry.pk, d.state) for d in due_list] == [
        (overdue.pk, "overdue"),
        (due.pk, "due"),
    ]
    html = response.content.decode()
    section = html[html.index('id="due-heading"') : html.index('class="board"')]
    assert "Olive Overdue" in section and "overdue" in section
    assert "Dora Due" in section
    assert "Larry Later" not in section and "Fin Finished" not in section
    assert "Sam Spam" not in html


def test_board_reads_each_inquiry_once_even_when_due(clinic: Clinic) -> None:
    due = _inquiry(name="Dora Due", follow_up_on=timezone.localdate())
    before = _last_seq()
    clinic.client("cleo").get(BOARD)
    events = _events_after(before)
    assert [(e.action, e.object_type, e.object_id, e.patient_id) for e in events] == [
        (Action.READ, "Inquiry", str(due.pk), None)
    ]


@pytest.mark.parametrize("username", ["ben", "pat", "quinn"])
def test_nurses_and_patients_see_no_inquiry(clinic: Clinic, username: str) -> None:
    inquiry = _inquiry()
    client = clinic.client(username)
    assert client.get(BOARD).status_code == 403
    assert client.get(_url(inquiry)).status_code == 403
    assert client.post(_url(inquiry, "attempts/"), {"method": "phone"}).status_code == 403
    assert client.post(_url(inquiry, "status/"), {"status": "closed"}).status_code == 403
    assert client.get(_url(inquiry, "convert/")).status_code == 403


def test_anonymous_is_sent_to_sign_in(db: Any) -> None:
    from django.test import Client

    inquiry = _inquiry()
    for url in (BOARD, _url(inquiry), _url(inquiry, "convert/")):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/account/login/" in response["Location"]


# -- one inquiry -------------------------------------------------------------------------------


def test_detail_shows_the_inquiry_escaped_and_audits_the_read(clinic: Clinic) -> None:
    script = "<script>alert('x')</script>"
    inquiry = _inquiry(name=script, message=f"hi {script}", prior_treatments=script)
    before = _last_seq()
    response = clinic.client("cleo").get(_url(inquiry))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "555-0142" in html and "robin@example.org" in html
    assert [(e.action, e.object_type, e.object_id) for e in _events_after(before)] == [
        (Action.READ, "Inquiry", str(inquiry.pk))
    ]


def test_unknown_inquiry_is_404(clinic: Clinic) -> None:
    assert clinic.client("cleo").get("/intake/inquiries/999999/").status_code == 404


def test_a_contact_attempt_is_logged_with_a_follow_up_and_moves_a_new_inquiry(
    clinic: Clinic,
) -> None:
    inquiry = _inquiry()
    follow_up = timezone.localdate() + timedelta(days=2)
    client = clinic.client("cleo")
    before = _last_seq()
    response = client.post(
        _url(inquiry, "attempts/"),
        {
            "attempt-method": "phone",
            "attempt-outcome": "reached",
            "attempt-note": "Booked a screening call.",
            "attempt-follow_up_on": follow_up.isoformat(),
        },
    )
    assert response.status_code == 302
    attempt = ContactAttempt.objects.get(inquiry=inquiry)
    assert (attempt.method, attempt.outcome, attempt.note) == (
        "phone",
        "reached",
        "Booked a screening call.",
    )
    assert attempt.by == clinic.users["cleo"]
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.CONTACTED
    assert inquiry.follow_up_on == follow_up
    change = InquiryStatusChange.objects.get(inquiry=inquiry)
    assert (change.from_status, change.to_status) == ("new", "contacted")
    events = _events_after(before)
    assert {(e.action, e.object_type) for e in events} == {
        (Action.READ, "Inquiry"),
        (Action.CREATE, "ContactAttempt"),
        (Action.CREATE, "InquiryStatusChange"),
        (Action.UPDATE, "Inquiry"),
    }
    assert all(e.patient_id is None for e in events)
    html = client.get(_url(inquiry)).content.decode()
    assert "Booked a screening call." in html
    assert "Reached" in html


def test_an_attempt_without_an_answer_keeps_the_status(clinic: Clinic) -> None:
    inquiry = _inquiry()
    clinic.client("cleo").post(
        _url(inquiry, "attempts/"), {"attempt-method": "sms", "attempt-outcome": "no_answer"}
    )
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.NEW
    assert inquiry.follow_up_on is None
    assert ContactAttempt.objects.get().outcome == "no_answer"


def test_a_bad_contact_attempt_is_422_and_nothing_is_stored(clinic: Clinic) -> None:
    inquiry = _inquiry()
    response = clinic.client("cleo").post(
        _url(inquiry, "attempts/"), {"attempt-method": "pigeon", "attempt-outcome": "reached"}
    )
    assert response.status_code == 422
    assert 'id="id_attempt-method_errors"' in response.content.decode()
    assert not ContactAttempt.objects.exists()


def test_status_change_keeps_its_history_with_the_note(clinic: Clinic) -> None:
    inquiry = _inquiry()
    client = clinic.client("cleo")
    follow_up = timezone.localdate() + timedelta(days=7)
    response = client.post(
        _url(inquiry, "status/"),
        {
            "status-status": "screening_booked",
            "status-note": "Screening on Monday.",
            "status-follow_up_on": follow_up.isoformat(),
        },
    )
    assert response.status_code == 302
    client.post(_url(inquiry, "status/"), {"status-status": "declined", "status-note": ""})
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.DECLINED
    assert inquiry.follow_up_on is None
    changes = list(InquiryStatusChange.objects.filter(inquiry=inquiry).order_by("pk"))
    assert [(c.from_status, c.to_status, c.note) for c in changes] == [
        ("new", "screening_booked", "Screening on Monday."),
        ("screening_booked", "declined", ""),
    ]
    html = client.get(_url(inquiry)).content.decode()
    assert "Screening on Monday." in html
    assert html.index("Declined</strong>") < html.index("Screening booked</strong>")


def test_status_change_to_the_same_or_an_unknown_status_is_422(clinic: Clinic) -> None:
    inquiry = _inquiry()
    client = clinic.client("cleo")
    for status in ("new", "lost"):
        response = client.post(_url(inquiry, "status/"), {"status-status": status})
        assert response.status_code == 422
        assert 'id="id_status-status_errors"' in response.content.decode()
    assert not InquiryStatusChange.objects.exists()


# -- conversion into a patient record ----------------------------------------------------------


def test_conversion_form_is_prefilled_from_the_inquiry(clinic: Clinic) -> None:
    inquiry = _inquiry(name="Anna van der Berg", email="anna@example.org", phone="555-0177")
    response = clinic.client("cleo").get(_url(inquiry, "convert/"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["given_name"].value() == "Anna"
    assert form["family_name"].value() == "van der Berg"
    assert form["email"].value() == "anna@example.org"
    assert form["phone"].value() == "555-0177"
    assert form["birth_date"].value() is None
    html = response.content.decode()
    assert 'value="van der Berg"' in html


def test_conversion_creates_the_patient_links_it_and_is_audited(clinic: Clinic) -> None:
    inquiry = _inquiry(status=InquiryStatus.CONTACTED)
    client = clinic.client("cleo")
    before = _last_seq()
    response = client.post(
        _url(inquiry, "convert/"),
        {
            "given_name": "Robin",
            "family_name": "Asker",
            "birth_date": "1991-03-04",
            "sex_at_birth": "female",
            "email": "robin@example.org",
            "phone": "555-0142",
        },
    )
    patient = Patient.objects.get(family_name="Asker")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert patient.mrn.startswith("KC")
    assert patient.birth_date == date(1991, 3, 4)
    assert (patient.email, patient.phone) == ("robin@example.org", "555-0142")
    inquiry.refresh_from_db()
    assert inquiry.patient == patient
    assert inquiry.status == InquiryStatus.EVALUATION_BOOKED
    change = InquiryStatusChange.objects.get(inquiry=inquiry)
    assert (change.from_status, change.to_status) == ("contacted", "evaluation_booked")
    events = _events_after(before)
    assert (Action.CREATE, "Patient", str(patient.pk), patient.pk) in [
        (e.action, e.object_type, e.object_id, e.patient_id) for e in events
    ]
    assert (Action.UPDATE, "Inquiry", str(inquiry.pk), patient.pk) in [
        (e.action, e.object_type, e.object_id, e.patient_id) for e in events
    ]
    assert all(e.actor_id == clinic.users["cleo"].pk for e in events)
    page = client.get(response["Location"]).content.decode()
    assert "Asker, Robin" in page
    assert "Patient record created from the inquiry." in page
    # The inquiry page now names the patient record: that read is audited with the patient.
    before = _last_seq()
    detail = client.get(_url(inquiry)).content.decode()
    assert patient.mrn in detail
    assert [(e.action, e.object_type, e.patient_id) for e in _events_after(before)] == [
        (Action.READ, "Inquiry", None),
        (Action.READ, "Patient", patient.pk),
    ]


def test_conversion_asks_for_what_the_inquiry_lacks_and_stores_nothing_without_it(
    clinic: Clinic,
) -> None:
    inquiry = _inquiry()
    patients = Patient.objects.count()
    response = clinic.client("cleo").post(
        _url(inquiry, "convert/"), {"given_name": "Robin", "family_name": "Asker"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_birth_date_errors"' in html
    assert 'id="id_sex_at_birth_errors"' in html
    assert Patient.objects.count() == patients
    inquiry.refresh_from_db()
    assert inquiry.patient is None


def test_a_second_conversion_is_refused(clinic: Clinic) -> None:
    inquiry = _inquiry()
    client = clinic.client("cleo")
    body = {
        "given_name": "Robin",
        "family_name": "Asker",
        "birth_date": "1991-03-04",
        "sex_at_birth": "female",
    }
    assert client.post(_url(inquiry, "convert/"), body).status_code == 302
    patients = Patient.objects.count()
    inquiry.refresh_from_db()
    again = client.post(_url(inquiry, "convert/"), body)
    assert again.status_code == 302
    assert again["Location"] == f"/patients/{inquiry.patient_id}/"
    assert Patient.objects.count() == patients
    followed = client.get(_url(inquiry, "convert/"), follow=True).content.decode()
    assert "already converted" in followed


def test_the_service_refuses_a_second_conversion_too(clinic: Clinic) -> None:
    from ketaclinic.intake import services as pipeline_services

    inquiry = _inquiry()
    fields = {
        "given_name": "Robin",
        "family_name": "Asker",
        "birth_date": date(1991, 3, 4),
        "sex_at_birth": "female",
    }
    cleo = clinic.users["cleo"]
    pipeline_services.inquiry_convert(acting_user=cleo, inquiry=inquiry, **fields)
    with pytest.raises(pipeline_services.AlreadyConverted):
        pipeline_services.inquiry_convert(acting_user=cleo, inquiry=inquiry, **fields)


def test_a_spam_inquiry_is_not_converted(clinic: Clinic) -> None:
    inquiry = _inquiry(is_spam=True)
    response = clinic.client("cleo").post(
        _url(inquiry, "convert/"),
        {"given_name": "A", "family_name": "B", "birth_date": "1990-01-01", "sex_at_birth": "male"},
    )
    assert response.status_code == 422
    assert not Patient.objects.filter(family_name="B").exists()


def test_evaluation_and_decision_move_the_converted_inquiry_on(clinic: Clinic) -> None:
    inquiry = _inquiry(status=InquiryStatus.EVALUATION_BOOKED, patient=clinic.pat)
    evaluation_make(clinic)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.EVALUATED
    decision_make(clinic)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ELIGIBLE
    # decision_make evaluates again first: already "evaluated", so no change is recorded
    assert [c.to_status for c in InquiryStatusChange.objects.order_by("pk")] == [
        "evaluated",
        "eligible",
    ]


def test_board_queries_do_not_grow_with_inquiries_statuses_or_follow_ups(
    clinic: Clinic, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = clinic.client("cleo")
    # Two to begin with: on PostgreSQL one audited read is one statement, several are two
    # (audit.services), the same for 2 or 200.
    _inquiry(name="First One")
    _inquiry(name="Second One")
    client.get(BOARD)  # warm the session and the audit chain head
    with CaptureQueriesContext(connection) as few:
        assert client.get(BOARD).status_code == 200
    today = timezone.localdate()
    for n, status in enumerate(InquiryStatus.values * 3):
        _inquiry(name=f"Asker {n}", status=status, follow_up_on=today - timedelta(days=n % 3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(BOARD)
    assert response.status_code == 200
    assert len(response.context["board"].due) == 15  # three of each of the five open statuses
