"""The patient's reminder settings in the portal (saved, audited, checked), and the staff's
pages: a patient's reminder history and the deliveries that need a look."""

from __future__ import annotations

from datetime import time

from django.template.loader import render_to_string
from django.utils import translation

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.reminders.forms import PreferenceForm
from ketaclinic.reminders.models import Channel, Delivery, DeliveryStatus, Kind, ReminderPreference
from ketaclinic.testing import Clinic


def test_a_patient_without_a_choice_sees_the_defaults(clinic: Clinic) -> None:
    page = clinic.client("pat").get("/portal/reminders/").content.decode()
    assert "reminders go by e-mail, and not between 21:00 and 08:00" in page
    assert 'name="email" id="id_email" checked' in page
    assert 'name="sms" id="id_sms">' in page
    assert 'value="21:00"' in page and 'value="08:00"' in page
    for staff_word in ("MRN", clinic.pat.mrn):
        assert staff_word not in page


def test_the_patient_sets_channels_and_quiet_hours_and_the_change_is_audited(
    clinic: Clinic,
) -> None:
    answer = clinic.client("pat").post(
        "/portal/reminders/",
        {"sms": "on", "quiet_start": "22:00", "quiet_end": "07:30"},
    )
    assert answer.status_code == 302
    preference = ReminderPreference.objects.get(patient=clinic.pat)
    assert (preference.email, preference.sms) == (False, True)
    assert (preference.quiet_start, preference.quiet_end) == (time(22, 0), time(7, 30))
    assert preference.updated_by == clinic.users["pat"]
    event = AuditEvent.objects.get(object_type="ReminderPreference")
    assert (event.action, event.patient_id) == (Action.CREATE, clinic.pat.pk)
    clinic.client("pat").post("/portal/reminders/", {"email": "on"})
    assert AuditEvent.objects.filter(
        object_type="ReminderPreference", action=Action.UPDATE
    ).exists()
    preference.refresh_from_db()
    assert preference.channels == [Channel.EMAIL]
    assert preference.quiet_start is None


def test_half_a_quiet_window_or_a_channel_without_an_address_is_refused(
    clinic: Clinic,
) -> None:
    clinic.pat.phone = ""
    clinic.pat.save(update_fields=["phone"])
    page = clinic.client("pat").post("/portal/reminders/", {"email": "on", "quiet_start": "22:00"})
    assert page.status_code == 200
    assert "Give both times, or leave both empty." in page.content.decode()
    page = clinic.client("pat").post("/portal/reminders/", {"sms": "on"})
    assert "Add a phone number in My details first." in page.content.decode()
    assert not ReminderPreference.objects.exists()


def test_the_settings_page_is_written_for_spanish(clinic: Clinic) -> None:
    """Rendered in Spanish (the language switch itself is h15-i18n's)."""
    with translation.override("es"):
        form = PreferenceForm(has_email=True, has_phone=True)
        page = render_to_string("reminders/preferences.html", {"form": form, "saved": False})
    assert "¿Cómo desea que le avisemos?" in page
    assert "Por mensaje de texto (SMS)" in page
    assert "Sin avisos desde" in page


def _delivery(clinic: Clinic, status: str, key: str) -> Delivery:
    return Delivery.objects.create(
        event_key=key,
        channel=Channel.SMS,
        kind=Kind.QUESTIONNAIRE_DUE,
        patient=clinic.pat,
        status=status,
        error="HTTP 400" if status == DeliveryStatus.FAILED else "",
    )


def test_staff_see_a_patients_reminders_and_the_read_is_audited(clinic: Clinic) -> None:
    _delivery(clinic, DeliveryStatus.SENT, "questionnaire:1:2026-12-01")
    page = clinic.client("ben").get(f"/reminders/patients/{clinic.pat.pk}/").content.decode()
    assert "Questionnaire due" in page and "Sent" in page
    assert "(the defaults: the patient has not chosen)" in page
    assert AuditEvent.objects.filter(
        object_type="ReminderDelivery", action=Action.READ, patient_id=clinic.pat.pk
    ).exists()
    detail = clinic.client("ben").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert f"/reminders/patients/{clinic.pat.pk}/" in detail


def test_the_attention_list_shows_failed_and_unconfirmed_only(clinic: Clinic) -> None:
    _delivery(clinic, DeliveryStatus.SENT, "a")
    _delivery(clinic, DeliveryStatus.FAILED, "b")
    _delivery(clinic, DeliveryStatus.UNCONFIRMED, "c")
    page = clinic.client("ben").get("/reminders/attention/").content.decode()
    assert page.count("<tr>") == 3  # the header and two rows
    assert "HTTP 400" in page and "Unconfirmed" in page
