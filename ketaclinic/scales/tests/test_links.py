"""Questionnaire links on the patient's phone and kiosk sessions on the clinic tablet:
single use, expiry, never another patient's record, nothing about the patient in the URL,
rate-limited per address."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.models import token_hash
from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import SafetyFlag
from ketaclinic.scales import links
from ketaclinic.scales.models import Administration, PatientLink
from ketaclinic.testing import Clinic

URL = re.compile(r"^http://testserver/scales/q/(?P<token>[A-Za-z0-9_-]{43})/$")
GAD7_ALL_TWO = {f"gad7-{n}": "2" for n in range(1, 8)}
PHQ9_ALL_ONE = {f"phq9-{n}": "1" for n in range(1, 10)}


def make_link(clinic: Clinic, codes: list[str], hours: int = 72) -> str:
    response = clinic.client("ben").post(
        f"/scales/patients/{clinic.pat.pk}/links/", {"instruments": codes, "hours": hours}
    )
    assert response.status_code == 200
    found = re.search(r'value="(http://testserver/scales/q/[^"]+)"', response.content.decode())
    assert found is not None
    return found.group(1)


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_staff_make_a_link_and_the_patient_answers_once(clinic: Clinic) -> None:
    url = make_link(clinic, ["gad7", "phq9"])
    phone = Client()  # no login

    page = phone.get(path_of(url))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Feeling nervous, anxious, or on edge" in html
    assert clinic.pat.family_name not in html and clinic.pat.mrn not in html
    assert page["Cache-Control"].startswith("max-age=0")

    done = phone.post(path_of(url), {**GAD7_ALL_TWO, **PHQ9_ALL_ONE})
    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    stored = {a.instrument: a for a in Administration.objects.all()}
    assert set(stored) == {"gad7", "phq9"}
    assert stored["gad7"].total == 14 and stored["phq9"].total == 9
    assert {a.patient_id for a in stored.values()} == {clinic.pat.pk}
    assert {a.mode for a in stored.values()} == {"patient_self"}
    assert PatientLink.objects.get().used_at is not None


def test_a_second_submit_is_gone_and_stores_nothing(clinic: Clinic) -> None:
    url = make_link(clinic, ["gad7"])
    phone = Client()
    assert phone.post(path_of(url), GAD7_ALL_TWO).status_code == 200
    events = AuditEvent.objects.count()

    again = phone.post(path_of(url), {f"gad7-{n}": "0" for n in range(1, 8)})
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert Administration.objects.count() == 1
    assert Administration.objects.get().total == 14
    assert AuditEvent.objects.count() == events
    assert Client().get(path_of(url)).status_code == 410


def test_an_expired_link_is_gone_and_stores_nothing(clinic: Clinic) -> None:
    url = make_link(clinic, ["gad7"], hours=1)
    PatientLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    phone = Client()
    page = phone.get(path_of(url))
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert phone.post(path_of(url), GAD7_ALL_TWO).status_code == 410
    assert not Administration.objects.exists()
    assert PatientLink.objects.get().used_at is None


def test_incomplete_answers_keep_the_link_usable_and_store_nothing(clinic: Clinic) -> None:
    url = make_link(clinic, ["gad7", "phq9"])
    phone = Client()
    partial = {**GAD7_ALL_TWO, **{k: v for k, v in PHQ9_ALL_ONE.items() if k != "phq9-9"}}
    response = phone.post(path_of(url), partial)
    assert response.status_code == 422
    assert 'id="id_phq9-9_errors"' in response.content.decode()
    assert not Administration.objects.exists()
    assert phone.post(path_of(url), {**GAD7_ALL_TWO, **PHQ9_ALL_ONE}).status_code == 200
    assert Administration.objects.count() == 2


def test_a_link_never_writes_to_another_patient_even_when_tampered(clinic: Clinic) -> None:
    url = make_link(clinic, ["gad7"])
    tampered: dict[str, Any] = {
        **GAD7_ALL_TWO,
        "patient": str(clinic.quinn.pk),
        "patient_id": str(clinic.quinn.pk),
        "gad7-patient": str(clinic.quinn.pk),
        "instrument": "phq9",
        **PHQ9_ALL_ONE,  # an instrument the link does not ask
        "mode": "staff_entry",
        "administered_at": "2020-01-01T00:00",
    }
    response = Client().post(path_of(url), tampered)
    assert response.status_code == 200
    administration = Administration.objects.get()
    assert administration.patient_id == clinic.pat.pk
    assert administration.instrument == "gad7"
    assert administration.mode == "patient_self"
    assert administration.administered_at > timezone.now() - timedelta(minutes=5)
    assert not Administration.objects.filter(patient=clinic.quinn).exists()


def test_the_service_refuses_instruments_the_link_does_not_ask(clinic: Clinic) -> None:
    issued = links.patient_link_create(
        acting_user=clinic.users["ben"], patient=clinic.pat, instrument_codes=["gad7"]
    )
    with pytest.raises(Exception, match="not asked by this link"):
        links.patient_link_answer(
            token=issued.token,
            answers_by_instrument={"gad7": {str(n): 0 for n in range(1, 8)}, "phq9": {}},
        )
    assert not Administration.objects.exists()


def test_the_link_url_holds_only_a_random_token(clinic: Clinic) -> None:
    url = make_link(clinic, ["gad7"])
    found = URL.match(url)
    assert found is not None
    patient = clinic.pat
    for secret in (
        str(patient.pk),
        patient.pk.hex,
        patient.mrn,
        patient.given_name,
        patient.family_name,
        patient.email,
        "gad7",
    ):
        assert secret.lower() not in url.lower()
    link = PatientLink.objects.get()
    assert link.token_hash == token_hash(found.group("token"))
    assert found.group("token") not in json.dumps(
        list(PatientLink.objects.values_list("token_hash", "instruments"))
    )


def test_the_api_makes_a_link_and_answers_its_url_once(clinic: Clinic) -> None:
    api = clinic.api("ben")
    response = api.post(
        f"/api/v1/patients/{clinic.pat.pk}/links",
        data=json.dumps({"instruments": ["phq9"], "hours": 24}),
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert URL.match(body["url"])
    assert body["instruments"] == ["phq9"]
    link = PatientLink.objects.get()
    assert link.patient_id == clinic.pat.pk
    assert timedelta(hours=23) < link.expires_at - timezone.now() <= timedelta(hours=24)
    assert Client().get(path_of(body["url"])).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instruments": []}, "instruments"),
        ({"instruments": ["nope"]}, "instruments.0"),
        ({"instruments": ["gad7"], "hours": 0}, "hours"),
        ({"instruments": ["gad7"], "hours": "24"}, "hours"),
        ({"instruments": ["gad7"], "patient": "x"}, "patient"),
        ({"instruments": ["hama"]}, "instruments"),  # clinician-rated: not for a phone
    ],
)
def test_the_api_refuses_bad_link_requests(
    clinic: Clinic, body: dict[str, Any], field: str
) -> None:
    response = clinic.api("ben").post(
        f"/api/v1/patients/{clinic.pat.pk}/links",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert field in [problem["field"] for problem in response.json()["detail"]]
    assert not PatientLink.objects.exists()


def test_a_patient_cannot_make_links_and_unknown_patients_are_not_found(clinic: Clinic) -> None:
    body = json.dumps({"instruments": ["gad7"]})
    own = clinic.api("pat").post(
        f"/api/v1/patients/{clinic.pat.pk}/links", data=body, content_type="application/json"
    )
    assert own.status_code == 403
    other = clinic.api("pat").post(
        f"/api/v1/patients/{clinic.quinn.pk}/links", data=body, content_type="application/json"
    )
    assert other.status_code == 404
    assert not PatientLink.objects.exists()


def test_requests_from_one_address_are_rate_limited(clinic: Clinic) -> None:
    url = path_of(make_link(clinic, ["gad7"]))
    phone = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [phone.get(url).status_code for _ in range(links.RATE_LIMIT)]
    assert statuses == [200] * links.RATE_LIMIT
    blocked = phone.get(url)
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "600"
    # Guessing tokens counts too, and a blocked address cannot answer even a good link.
    assert phone.get("/scales/q/guess/").status_code == 429
    assert phone.post(url, GAD7_ALL_TWO).status_code == 429
    assert not Administration.objects.exists()
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.10").get(url).status_code == 200


def test_an_unknown_token_is_not_found(clinic: Clinic) -> None:
    response = Client().get("/scales/q/not-a-real-token/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_staff_start_a_kiosk_session_on_the_tablet(clinic: Clinic) -> None:
    tablet = clinic.client("ben")
    start = tablet.post(f"/scales/patients/{clinic.pat.pk}/kiosk/", {"kiosk-instruments": ["gad7"]})
    assert start.status_code == 302
    assert re.fullmatch(r"/scales/q/[A-Za-z0-9_-]{43}/", start["Location"])
    link = PatientLink.objects.get()
    assert link.mode == "kiosk"
    assert link.expires_at - timezone.now() <= timedelta(hours=links.KIOSK_HOURS)

    page = tablet.get(start["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="questionnaire kiosk"' in html
    assert 'aria-label="Main"' not in html  # no navigation on the kiosk
    assert "Log out" not in html and clinic.pat.family_name not in html
    assert 'id="kiosk-fullscreen"' in html

    done = tablet.post(start["Location"], GAD7_ALL_TWO)
    assert "hand the tablet back" in done.content.decode()
    administration = Administration.objects.get()
    assert (administration.patient_id, administration.mode) == (clinic.pat.pk, "kiosk")
    assert tablet.get(start["Location"]).status_code == 410


def test_a_kiosk_session_needs_staff(clinic: Clinic) -> None:
    response = clinic.client("pat").post(
        f"/scales/patients/{clinic.pat.pk}/kiosk/", {"kiosk-instruments": ["gad7"]}
    )
    assert response.status_code == 403
    assert not PatientLink.objects.exists()


def test_a_link_form_without_instruments_is_refused_beside_the_field(clinic: Clinic) -> None:
    response = clinic.client("ben").post(f"/scales/patients/{clinic.pat.pk}/links/", {"hours": 24})
    assert response.status_code == 422
    assert 'id="id_instruments_errors"' in response.content.decode()
    assert not PatientLink.objects.exists()


def test_the_answers_raise_safety_flags_as_staff_entry_does(clinic: Clinic) -> None:
    url = make_link(clinic, ["phq9"])
    answers = {**PHQ9_ALL_ONE, "phq9-9": "2"}
    assert Client().post(path_of(url), answers).status_code == 200
    assert SafetyFlag.objects.filter(patient=clinic.pat, code="suicide_risk").exists()
