"""Every URL pattern, as every role and anonymously: allowed or denied, as the matrix says.

A URL pattern that is missing from the matrix fails the test, so a new page or endpoint must
state who may use it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from ketaclinic.patients.models import SafetyFlag
from ketaclinic.testing import Clinic

ROLES = ("anon", "admin", "clinician", "nurse", "intake", "patient", "therapist")
PERSONA = {
    "anon": None,
    "admin": "dana",
    "clinician": "ada",
    "nurse": "ben",
    "intake": "cleo",
    "patient": "pat",
    # The integration therapist (issue 15): made on first use (careplan/testing.py), named
    # in Pat's signed care plan by the care plan rows' builders.
    "therapist": "theo",
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def all_routes() -> set[str]:
    return {
        route.lstrip("^").rstrip("$").replace("\\Z", "")
        for route in _walk(get_resolver().url_patterns)
    }


REFUSED = 0  # the therapist's derived column: 403 or 404, or 422 for a write (see _fill)
NOTHING = -1  # the therapist on the API and FHIR: refused, or an answer holding no record


@dataclass(frozen=True)
class Check:
    method: str
    expect: dict[str, int]
    api: bool = False
    body: Callable[[Clinic], dict[str, Any]] | None = None


def page(**by_role: int) -> Check:
    return Check("GET", _fill(by_role))


def form_post(**by_role: int) -> Check:
    """A web form's POST (session login, no body: an empty form where the role may post)."""
    return Check("POST", _fill(by_role))


def api(
    method: str, body: Callable[[Clinic], dict[str, Any]] | None = None, **by_role: int
) -> Check:
    derived = "therapist" not in by_role
    expect = _fill(by_role)
    if derived and expect["therapist"] < 400 and expect["anon"] >= 400:
        # The therapist reads and writes no patient record through the API or FHIR (their
        # plans and notes are pages): what staff and the patient may do is refused to them,
        # or answered with nothing (an empty list or Bundle). What anyone may open (the
        # CapabilityStatement, the instruments, a new inquiry) they may open too.
        expect["therapist"] = NOTHING
    return Check(method, expect, api=True, body=body)


def _fill(by_role: dict[str, int]) -> dict[str, int]:
    staff = by_role.pop("staff", None)
    result = dict(by_role)
    if staff is not None:
        for role in ("admin", "clinician", "nurse", "intake"):
            result.setdefault(role, staff)
    if "therapist" not in result and "patient" in result and "intake" in result:
        # Unless a row says otherwise, the therapist holds no right of the older rows: refused
        # where the patient is on a staff page, refused where intake is on the portal's pages
        # and what intake may not open, allowed only where both are (the account pages). A
        # refusal derived so is REFUSED: 403 or 404 (which of the two depends on whether the
        # page checks the role or the record first; both say nothing about the record).
        patient, intake = result["patient"], result["intake"]
        derived = patient if patient in (401, 403, 404, 405, 410) else intake
        result["therapist"] = REFUSED if derived in (403, 404) else derived
    missing = set(ROLES) - set(result)
    assert not missing, f"matrix row lacks {missing}"
    return result


def _protocol_id(_: Clinic) -> int:
    from ketaclinic.courses.models import Protocol

    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None, "the shipped protocols are loaded by a migration"
    return protocol.pk


def _course_url(suffix: str = "", *, status: str = "active") -> Callable[[Clinic], str]:
    """A course of Pat's (made directly: intake cannot clear anyone yet), and its URL."""

    def build(c: Clinic) -> str:
        from ketaclinic.courses.models import Course

        course = Course.objects.create(
            patient=c.pat, protocol_id=_protocol_id(c), status=status, started_by=c.users["ada"]
        )
        return f"/api/v1/courses/{course.pk}{suffix}"

    return build


def _booking(c: Clinic) -> dict[str, Any]:
    """A start 3 days after the last booking, in a chair open at any time."""
    from datetime import timedelta

    from django.utils import timezone

    from ketaclinic.courses.models import Chair
    from ketaclinic.infusions.models import Session

    Chair.objects.get_or_create(name="Matrix chair")
    start = timezone.now().replace(microsecond=0) + timedelta(days=7 + 3 * Session.objects.count())
    _on_site(c, timezone.localdate(start))  # a booking needs a prescriber on site that day
    return {"start": start.isoformat(), "chair": "Matrix chair"}


def _on_site(c: Clinic, day: Any) -> None:
    from datetime import time

    from ketaclinic.courses.models import PrescriberPresence

    PrescriberPresence.objects.get_or_create(
        clinician=c.users["ada"],
        date=day,
        from_time=time(0, 0),
        to_time=time(23, 59),
        recorded_by=c.users["dana"],
    )


def _new_chair(_: Clinic) -> dict[str, Any]:
    from ketaclinic.courses.models import Chair

    return {"name": f"Matrix chair {Chair.objects.count()}"}


def _presence(_: Clinic) -> dict[str, Any]:
    return {"clinician": "ada", "date": "2030-01-07", "from_time": "08:00", "to_time": "12:00"}


def _new_patient(_: Clinic) -> dict[str, Any]:
    return {
        "given_name": "Matrix",
        "family_name": "Row",
        "birth_date": "1990-01-01",
        "sex_at_birth": "unknown",
    }


def _phq9_all_zero(_: Clinic) -> dict[str, Any]:
    return {
        "instrument": "phq9",
        "answers": {str(n): 0 for n in range(1, 10)},
        "administered_at": "2026-01-05T09:30:00+01:00",
        "mode": "staff_entry",
    }


def _flag_acknowledge_url(c: Clinic) -> str:
    flag = SafetyFlag.objects.create(patient=c.pat, code="matrix", title="Matrix flag")
    return f"/api/v1/patients/{c.pat.pk}/flags/{flag.pk}/acknowledge"


def _flag_acknowledge_page_url(c: Clinic) -> str:
    flag = SafetyFlag.objects.create(patient=c.pat, code="matrix", title="Matrix flag")
    return f"/patients/{c.pat.pk}/flags/{flag.pk}/acknowledge/"


def _notification_read_url(c: Clinic) -> str:
    from ketaclinic.scales.models import Notification

    notification = Notification.objects.create(user=c.users["ada"], text="Matrix notification")
    return f"/scales/notifications/{notification.pk}/read/"


def _scale_link_url(c: Clinic) -> str:
    from ketaclinic.scales.links import patient_link_create

    issued = patient_link_create(
        acting_user=c.users["ben"], patient=c.pat, instrument_codes=["gad7"]
    )
    return f"/scales/q/{issued.token}/"


def _administration_answers_url(c: Clinic) -> str:
    from ketaclinic.scales.services import administration_record

    administration = administration_record(
        acting_user=c.users["ben"],
        patient=c.pat,
        instrument_code="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        administered_at=timezone.now(),
    )
    return f"/scales/patients/{c.pat.pk}/administrations/{administration.pk}/"


def _fhir_import(_: Clinic) -> dict[str, Any]:
    from ketaclinic.fhir.questionnaire import builtin_questionnaire
    from ketaclinic.scales import instruments

    definition = builtin_questionnaire(instruments.get("gad7"))
    return definition | {"url": "https://clinic.example/fhir/Questionnaire/gad7-matrix"}


def _fhir_gad7_response(c: Clinic) -> dict[str, Any]:
    from ketaclinic.fhir.questionnaire import builtin_url

    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": builtin_url("gad7"),
        "status": "completed",
        "subject": {"reference": f"Patient/{c.pat.pk}"},
        "item": [{"linkId": str(n), "answer": [{"valueInteger": 1}]} for n in range(1, 8)],
    }


def _fhir_flag_url(c: Clinic) -> str:
    flag = SafetyFlag.objects.create(patient=c.pat, code="matrix", title="Matrix flag")
    return f"/fhir/R4/Flag/{flag.pk}"


def _fhir_chair_url(c: Clinic) -> str:
    from ketaclinic.courses.models import Chair

    return f"/fhir/R4/Location/chair-{Chair.objects.get_or_create(name='Matrix chair')[0].pk}"


def _fhir_encounter_url(c: Clinic) -> str:
    from ketaclinic.infusions.tests.chart_driver import session_make

    return f"/fhir/R4/Encounter/{session_make(c).pk}"


def _fhir_medication_administration_url(c: Clinic) -> str:
    """A signed record of a session of Pat's (stored directly: signing is the chart's, tested
    there), served as the MedicationAdministration with the session's id."""
    import hashlib
    import json

    from ketaclinic.infusions.models import SignedRecord
    from ketaclinic.infusions.snapshot import session_snapshot
    from ketaclinic.infusions.tests.chart_driver import session_make

    session = session_make(c)
    text = json.dumps(session_snapshot(session))
    SignedRecord.objects.create(
        session=session, snapshot_json=text, sha256=hashlib.sha256(text.encode()).hexdigest()
    )
    return f"/fhir/R4/MedicationAdministration/{session.pk}"


def _fhir_consent_url(c: Clinic) -> str:
    from ketaclinic.consent.models import ConsentSignature
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(c)
    signature = ConsentSignature.objects.filter(patient=c.pat).first()
    assert signature is not None, "the shipped consent documents are loaded by a migration"
    return f"/fhir/R4/Consent/{signature.pk}"


def _fhir_stored_url(resource_type: str) -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        from ketaclinic.fhir.services import questionnaire_response_record

        recorded = questionnaire_response_record(
            acting_user=c.users["ben"], body=_fhir_gad7_response(c)
        )
        row = (
            recorded.response
            if resource_type == "QuestionnaireResponse"
            else (recorded.observation)
        )
        return f"/fhir/R4/{resource_type}/{row.resource_id}"

    return build


def _new_inquiry(_: Clinic) -> dict[str, Any]:
    return {"name": "Matrix Row", "email": "matrix@example.org", "consent_to_contact": True}


def _inquiry_url(_: Clinic, suffix: str = "") -> str:
    from ketaclinic.intake.models import Inquiry

    inquiry = Inquiry.objects.filter(name="Matrix Inquirer").first()
    if inquiry is None:
        inquiry = Inquiry.objects.create(
            name="Matrix Inquirer", email="matrix@example.org", consent_to_contact=True
        )
    return f"/intake/inquiries/{inquiry.pk}/{suffix}"


# route -> how to fill its parameters, and the checks to run on it.
MATRIX: dict[str, tuple[Callable[[Clinic], str], list[Check]]] = {
    "": (lambda c: "/", [page(anon=302, staff=302, patient=302)]),
    # The old address of a patient's own record: their portal now.
    "me/": (lambda c: "/me/", [page(anon=302, staff=404, patient=302)]),
    "healthz": (lambda c: "/healthz", [page(anon=200, staff=200, patient=200)]),
    "logout/": (lambda c: "/logout/", [page(anon=405, staff=405, patient=405)]),
    "account/login/": (lambda c: "/account/login/", [page(anon=200, staff=200, patient=200)]),
    "account/two_factor/setup/": (
        lambda c: "/account/two_factor/setup/",
        [page(anon=302, admin=302, clinician=302, nurse=200, intake=200, patient=200)],
    ),
    "account/two_factor/qrcode/": (
        lambda c: "/account/two_factor/qrcode/",
        [page(anon=302, staff=404, patient=404)],
    ),
    "account/two_factor/setup/complete/": (
        lambda c: "/account/two_factor/setup/complete/",
        [page(anon=302, admin=200, clinician=200, nurse=302, intake=302, patient=302)],
    ),
    "account/two_factor/backup/tokens/": (
        lambda c: "/account/two_factor/backup/tokens/",
        [page(anon=302, admin=200, clinician=200, nurse=302, intake=302, patient=302)],
    ),
    "account/two_factor/": (
        lambda c: "/account/two_factor/",
        [page(anon=302, staff=200, patient=200)],
    ),
    "account/two_factor/disable/": (
        lambda c: "/account/two_factor/disable/",
        [page(anon=302, admin=403, clinician=403, nurse=302, intake=302, patient=302)],
    ),
    "account/password/change/": (
        lambda c: "/account/password/change/",
        [page(anon=302, staff=200, patient=200)],
    ),
    "account/password/change/done/": (
        lambda c: "/account/password/change/done/",
        [page(anon=302, staff=200, patient=200)],
    ),
    "account/password/reset/": (
        lambda c: "/account/password/reset/",
        [page(anon=200, staff=200, patient=200)],
    ),
    "account/password/reset/sent/": (
        lambda c: "/account/password/reset/sent/",
        [page(anon=200, staff=200, patient=200)],
    ),
    "account/password/reset/<uidb64>/<token>/": (
        lambda c: "/account/password/reset/MQ/not-a-token/",
        [page(anon=200, staff=200, patient=200)],
    ),
    "account/password/reset/done/": (
        lambda c: "/account/password/reset/done/",
        [page(anon=200, staff=200, patient=200)],
    ),
    "today/": (lambda c: "/today/", [page(anon=302, staff=200, patient=404, therapist=302)]),
    "today/verify/": (
        lambda c: "/today/verify/",
        [form_post(anon=302, admin=302, clinician=403, nurse=403, intake=403, patient=403)],
    ),
    # Staff pages: a patient has the portal (403 for a list, 404 for a record's pages).
    "patients/": (lambda c: "/patients/", [page(anon=302, staff=200, patient=403)]),
    "patients/new/": (
        lambda c: "/patients/new/",
        [page(anon=302, admin=200, clinician=200, nurse=403, intake=200, patient=403)],
    ),
    "patients/<uuid:patient_id>/": (
        lambda c: f"/patients/{c.pat.pk}/",
        [page(anon=302, staff=200, patient=404)],
    ),
    "patients/<uuid:patient_id>/edit/": (
        lambda c: f"/patients/{c.pat.pk}/edit/",
        [page(anon=302, staff=200, patient=403)],
    ),
    # Only a clinician acknowledges (an empty note is refused: 422); a GET is refused.
    "patients/<uuid:patient_id>/flags/<int:flag_id>/acknowledge/": (
        _flag_acknowledge_page_url,
        [
            page(anon=302, staff=405, patient=405),
            form_post(anon=302, admin=403, clinician=422, nurse=403, intake=403, patient=403),
        ],
    ),
    "courses/protocols/": (
        lambda c: "/courses/protocols/",
        [page(anon=302, staff=200, patient=403)],
    ),
    "courses/protocols/<int:protocol_id>/": (
        lambda c: f"/courses/protocols/{_protocol_id(c)}/",
        [page(anon=302, staff=200, patient=403)],
    ),
    "courses/protocols/<int:protocol_id>/new-version/": (
        lambda c: f"/courses/protocols/{_protocol_id(c)}/new-version/",
        [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
    ),
    "courses/patients/<uuid:patient_id>/": (
        lambda c: f"/courses/patients/{c.pat.pk}/",
        [page(anon=302, staff=200, patient=404)],
    ),
    "courses/schedule/": (
        lambda c: "/courses/schedule/",
        [page(anon=302, staff=302, patient=403)],
    ),
    "courses/schedule/day/<str:day>/": (
        lambda c: "/courses/schedule/day/2030-01-07/",
        [page(anon=302, staff=200, patient=403)],
    ),
    "courses/schedule/day/<str:day>/presence/": (
        lambda c: "/courses/schedule/day/2030-01-07/presence/",
        # POST only (tested in ketaclinic/courses/tests).
        [page(anon=302, staff=405, patient=405)],
    ),
    "courses/schedule/week/<str:day>/": (
        lambda c: "/courses/schedule/week/2030-01-07/",
        [page(anon=302, staff=200, patient=403)],
    ),
    "api/v1/protocols": (
        lambda c: "/api/v1/protocols",
        [api("GET", anon=401, staff=200, patient=403)],
    ),
    "api/v1/patients/<patient_id>/courses": (
        lambda c: f"/api/v1/patients/{c.pat.pk}/courses",
        [
            api("GET", anon=401, staff=200, patient=200),
            # Only a clinician starts a course, and intake has cleared nobody yet: 409.
            api(
                "POST",
                lambda c: {"protocol": _protocol_id(c)},
                anon=401,
                admin=403,
                clinician=409,
                nurse=403,
                intake=403,
                patient=403,
            ),
        ],
    ),
    "api/v1/courses/<course_id>": (
        _course_url(),
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "api/v1/courses/<course_id>/pause": (
        _course_url("/pause"),
        [
            api(
                "POST",
                lambda c: {"reason": "Matrix"},
                anon=401,
                admin=403,
                clinician=200,
                nurse=403,
                intake=403,
                patient=403,
            )
        ],
    ),
    "api/v1/courses/<course_id>/resume": (
        _course_url("/resume", status="paused"),
        [
            api(
                "POST",
                lambda c: {"reason": "Matrix"},
                anon=401,
                admin=403,
                clinician=200,
                nurse=403,
                intake=403,
                patient=403,
            )
        ],
    ),
    "api/v1/courses/<course_id>/end": (
        _course_url("/end"),
        [
            api(
                "POST",
                lambda c: {"reason": "Matrix"},
                anon=401,
                admin=403,
                clinician=200,
                nurse=403,
                intake=403,
                patient=403,
            )
        ],
    ),
    "api/v1/courses/<course_id>/phase": (
        _course_url("/phase"),
        [
            api(
                "POST",
                lambda c: {"phase": "maintenance", "reason": "Matrix"},
                anon=401,
                admin=403,
                clinician=200,
                nurse=403,
                intake=403,
                patient=403,
            )
        ],
    ),
    "api/v1/courses/<course_id>/dose-orders": (
        _course_url("/dose-orders"),
        [
            api(
                "POST",
                lambda c: {"mg_per_kg": 0.5, "rationale": "Matrix"},
                anon=401,
                admin=403,
                clinician=201,
                nurse=403,
                intake=403,
                patient=403,
            )
        ],
    ),
    "api/v1/courses/<course_id>/sessions": (
        _course_url("/sessions"),
        [api("POST", _booking, anon=401, staff=201, patient=403)],
    ),
    "api/v1/chairs": (
        lambda c: "/api/v1/chairs",
        [
            api("GET", anon=401, staff=200, patient=403),
            api(
                "POST",
                _new_chair,
                anon=401,
                admin=201,
                clinician=403,
                nurse=403,
                intake=403,
                patient=403,
            ),
        ],
    ),
    "api/v1/prescriber-presence": (
        lambda c: "/api/v1/prescriber-presence",
        [
            api(
                "POST",
                _presence,
                anon=401,
                admin=201,
                clinician=201,
                nurse=201,
                intake=403,
                patient=403,
            )
        ],
    ),
    "setup/lockouts/": (
        lambda c: "/setup/lockouts/",
        [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
    ),
    "audit/": (
        lambda c: "/audit/",
        [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
    ),
    "clinic/": (lambda c: "/clinic/", [page(anon=200, staff=200, patient=200)]),
    "clinic/inquiry/": (lambda c: "/clinic/inquiry/", [page(anon=200, staff=200, patient=200)]),
    "clinic/inquiry/thanks/": (
        lambda c: "/clinic/inquiry/thanks/",
        [page(anon=200, staff=200, patient=200)],
    ),
    # Anonymous and stores nothing: anyone, signed in or not, gets the same page.
    "clinic/self-screen/": (
        lambda c: "/clinic/self-screen/",
        [page(anon=200, staff=200, patient=200)],
    ),
    "clinic/<slug:slug>/": (lambda c: "/clinic/faq/", [page(anon=200, staff=200, patient=200)]),
    "clinic/<slug:slug>/edit/": (
        lambda c: "/clinic/faq/edit/",
        [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
    ),
    "intake/inquiries/": (
        lambda c: "/intake/inquiries/",
        [page(anon=302, admin=200, clinician=200, nurse=403, intake=200, patient=403)],
    ),
    "intake/inquiries/<int:inquiry_id>/": (
        lambda c: _inquiry_url(c),
        [page(anon=302, admin=200, clinician=200, nurse=403, intake=200, patient=403)],
    ),
    # POST only (tested in ketaclinic/intake/tests/test_pipeline_pages.py).
    "intake/inquiries/<int:inquiry_id>/status/": (
        lambda c: _inquiry_url(c, "status/"),
        [page(anon=302, staff=405, patient=405)],
    ),
    "intake/inquiries/<int:inquiry_id>/attempts/": (
        lambda c: _inquiry_url(c, "attempts/"),
        [page(anon=302, staff=405, patient=405)],
    ),
    "intake/inquiries/<int:inquiry_id>/spam/": (
        lambda c: _inquiry_url(c, "spam/"),
        [page(anon=302, staff=405, patient=405)],
    ),
    "intake/inquiries/<int:inquiry_id>/convert/": (
        lambda c: _inquiry_url(c, "convert/"),
        [page(anon=302, admin=200, clinician=200, nurse=403, intake=200, patient=403)],
    ),
    "api/v1/inquiries": (
        lambda c: "/api/v1/inquiries",
        # Anyone may ask, signed in or not; the rate limit is raised for this module.
        [api("POST", _new_inquiry, anon=201, staff=201, patient=201)],
    ),
    "api/v1/openapi.json": (
        lambda c: "/api/v1/openapi.json",
        [api("GET", anon=200, staff=200, patient=200)],
    ),
    "api/v1/patients": (
        lambda c: "/api/v1/patients",
        [
            api("GET", anon=401, staff=200, patient=200),
            api(
                "POST",
                _new_patient,
                anon=401,
                admin=201,
                clinician=201,
                nurse=403,
                intake=201,
                patient=403,
            ),
        ],
    ),
    "api/v1/": (lambda c: "/api/v1/", [api("GET", anon=404, staff=404, patient=404)]),
    "api/v1/patients/<patient_id>": (
        lambda c: f"/api/v1/patients/{c.pat.pk}",
        [
            api("GET", anon=401, staff=200, patient=200),
            api("PATCH", lambda c: {"pronouns": "she/her"}, anon=401, staff=200, patient=403),
        ],
    ),
    "api/v1/patients/<uuidstr:patient_id>/flags": (
        lambda c: f"/api/v1/patients/{c.pat.pk}/flags?status=all",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "api/v1/patients/<uuidstr:patient_id>/flags/<int:flag_id>/acknowledge": (
        _flag_acknowledge_url,
        [
            # Only a clinician acknowledges; the first (the clinician's) succeeds.
            api(
                "POST",
                lambda c: {"note": "Called the patient; safety plan reviewed."},
                anon=401,
                admin=403,
                clinician=200,
                nurse=403,
                intake=403,
                patient=403,
            )
        ],
    ),
    "api/v1/patients/<uuidstr:patient_id>/administrations": (
        lambda c: f"/api/v1/patients/{c.pat.pk}/administrations",
        [
            api("GET", anon=401, staff=200, patient=200),
            api("POST", _phq9_all_zero, anon=401, staff=201, patient=403),
        ],
    ),
    "api/v1/audit": (
        lambda c: "/api/v1/audit",
        [api("GET", anon=401, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
    ),
    # Rating scales (web): staff pages; the patient sees their own trends; links need no login.
    "scales/due/": (lambda c: "/scales/due/", [page(anon=302, staff=200, patient=403)]),
    # The staff inbox: each user's own notifications; marking read is a POST.
    "scales/notifications/": (
        lambda c: "/scales/notifications/",
        [page(anon=302, staff=200, patient=403)],
    ),
    "scales/notifications/read/": (
        lambda c: "/scales/notifications/read/",
        [page(anon=302, staff=405, patient=405), form_post(anon=302, staff=302, patient=403)],
    ),
    # Dr Ada's notification: another user's is not found.
    "scales/notifications/<int:notification_id>/read/": (
        _notification_read_url,
        [
            page(anon=302, staff=405, patient=405),
            form_post(anon=302, admin=404, clinician=302, nurse=404, intake=404, patient=403),
        ],
    ),
    "scales/patients/<uuid:patient_id>/": (
        lambda c: f"/scales/patients/{c.pat.pk}/",
        [page(anon=302, staff=200, patient=403)],
    ),
    "scales/patients/<uuid:patient_id>/enter/<slug:code>/": (
        lambda c: f"/scales/patients/{c.pat.pk}/enter/gad7/",
        [page(anon=302, staff=200, patient=403)],
    ),
    # POST only (tested in ketaclinic/scales/tests): a GET is refused after login.
    "scales/patients/<uuid:patient_id>/links/": (
        lambda c: f"/scales/patients/{c.pat.pk}/links/",
        [page(anon=302, staff=405, patient=405)],
    ),
    "scales/patients/<uuid:patient_id>/kiosk/": (
        lambda c: f"/scales/patients/{c.pat.pk}/kiosk/",
        [page(anon=302, staff=405, patient=405)],
    ),
    "scales/patients/<uuid:patient_id>/schedules/": (
        lambda c: f"/scales/patients/{c.pat.pk}/schedules/",
        [page(anon=302, staff=405, patient=405)],
    ),
    "scales/patients/<uuid:patient_id>/trends/": (
        lambda c: f"/scales/patients/{c.pat.pk}/trends/",
        [page(anon=302, staff=200, patient=404)],
    ),
    "scales/patients/<uuid:patient_id>/administrations/<uuid:administration_id>/": (
        _administration_answers_url,
        [page(anon=302, staff=200, patient=404)],
    ),
    # The questionnaire link: anyone holding it, no login (single use is tested elsewhere).
    "scales/q/<str:token>/": (_scale_link_url, [page(anon=200, staff=200, patient=200)]),
    "api/v1/patients/<uuidstr:patient_id>/links": (
        lambda c: f"/api/v1/patients/{c.pat.pk}/links",
        [api("POST", lambda c: {"instruments": ["gad7"]}, anon=401, staff=201, patient=403)],
    ),
    # FHIR R4 (bearer token only): anonymous 401; patients read only their own record.
    "fhir/R4/metadata": (
        lambda c: "/fhir/R4/metadata",
        # The therapist too: the server's description, nothing about a patient.
        [api("GET", anon=401, staff=200, patient=200, therapist=200)],
    ),
    "fhir/R4/Questionnaire": (
        lambda c: "/fhir/R4/Questionnaire?code=http://loinc.org|69737-5",
        [
            api("GET", anon=401, staff=200, patient=200, therapist=200),  # the instruments
            api(
                "POST",
                _fhir_import,
                anon=401,
                admin=201,
                clinician=403,
                nurse=403,
                intake=403,
                patient=403,
            ),
        ],
    ),
    "fhir/R4/Questionnaire/<str:resource_id>": (
        lambda c: "/fhir/R4/Questionnaire/gad7",
        [api("GET", anon=401, staff=200, patient=200, therapist=200)],
    ),
    "fhir/R4/QuestionnaireResponse": (
        lambda c: "/fhir/R4/QuestionnaireResponse",
        # A patient may record their own self-report (Pat answers for Pat here).
        [
            api("POST", _fhir_gad7_response, anon=401, staff=201, patient=201),
            # the therapist: an empty Bundle (no patient of theirs is visible through FHIR)
            api("GET", anon=401, staff=200, patient=200, therapist=200),
        ],
    ),
    "fhir/R4/QuestionnaireResponse/<str:resource_id>": (
        _fhir_stored_url("QuestionnaireResponse"),
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Observation": (
        lambda c: f"/fhir/R4/Observation?patient={c.pat.pk}",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Observation/<str:resource_id>": (
        _fhir_stored_url("Observation"),
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Flag": (
        lambda c: f"/fhir/R4/Flag?patient={c.pat.pk}&status=active",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    # Every other resource type of the FHIR search layer (ketaclinic/fhir/registry.py): staff
    # read any patient's, a patient (Pat here) only their own; staff and chairs for all.
    "fhir/R4/Flag/<str:resource_id>": (
        _fhir_flag_url,
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Organization": (
        lambda c: "/fhir/R4/Organization?_id=clinic",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Organization/<str:resource_id>": (
        lambda c: "/fhir/R4/Organization/clinic",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Patient": (
        lambda c: "/fhir/R4/Patient?_count=5",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Patient/<str:resource_id>": (
        lambda c: f"/fhir/R4/Patient/{c.pat.pk}",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Practitioner": (
        lambda c: "/fhir/R4/Practitioner?active=true",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Practitioner/<str:resource_id>": (
        lambda c: f"/fhir/R4/Practitioner/staff-{c.users['ben'].pk}",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Location": (
        lambda c: "/fhir/R4/Location",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Location/<str:resource_id>": (
        _fhir_chair_url,
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Encounter": (
        lambda c: f"/fhir/R4/Encounter?patient={c.pat.pk}&date=ge2020-01-01",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Encounter/<str:resource_id>": (
        _fhir_encounter_url,
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/MedicationAdministration": (
        lambda c: f"/fhir/R4/MedicationAdministration?patient={c.pat.pk}",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/MedicationAdministration/<str:resource_id>": (
        _fhir_medication_administration_url,
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Consent": (
        lambda c: f"/fhir/R4/Consent?patient={c.pat.pk}",
        [api("GET", anon=401, staff=200, patient=200)],
    ),
    "fhir/R4/Consent/<str:resource_id>": (
        _fhir_consent_url,
        [api("GET", anon=401, staff=200, patient=200)],
    ),
}

# The ketamine ledger: nurses draw and waste (with a witness), the administrator manages and
# reports, clinicians and nurses read balances; intake and patients never see it.
from ketaclinic.ledger.tests import matrix as lm  # noqa: E402  the rows' builders


def _ledger_view() -> Check:
    return api("GET", anon=401, admin=200, clinician=200, nurse=200, intake=403, patient=403)


def _admin_only(method: str, body: Callable[[Clinic], dict[str, Any]] | None, ok: int) -> Check:
    return api(method, body, anon=401, admin=ok, clinician=403, nurse=403, intake=403, patient=403)


def _ledger_page(**allowed: int) -> Check:
    """A ledger page: anonymous users go to the login page, the other roles are refused."""
    denied = {role: 403 for role in ("admin", "clinician", "nurse", "intake", "patient")}
    return page(**({"anon": 302} | denied | allowed))


def _ledger_form(**allowed: int) -> Check:
    denied = {role: 403 for role in ("admin", "clinician", "nurse", "intake", "patient")}
    return form_post(**({"anon": 302} | denied | allowed))


def _vial_url(suffix: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/api/v1/ledger/containers/{lm.vial(c).pk}{suffix}"


MATRIX.update(
    {
        "api/v1/ledger/locations": (
            lambda c: "/api/v1/ledger/locations",
            [
                _ledger_view(),
                _admin_only("POST", lm.location_body, 201),
            ],
        ),
        "api/v1/ledger/locations/<location_id>/storage": (
            lambda c: f"/api/v1/ledger/locations/{lm.location(c).pk}/storage",
            [_admin_only("POST", lambda c: {"name": "Matrix safe"}, 201)],
        ),
        "api/v1/ledger/locations/<location_id>/witness-policy": (
            lambda c: f"/api/v1/ledger/locations/{lm.location(c).pk}/witness-policy",
            [_admin_only("POST", lambda c: {"waste_witness_required": True}, 200)],
        ),
        "api/v1/ledger/receipts": (
            lambda c: "/api/v1/ledger/receipts",
            [_admin_only("POST", lm.receipt_body, 201)],
        ),
        "api/v1/ledger/containers": (
            lambda c: f"/api/v1/ledger/containers?location={lm.vial(c).location_id}",
            [_ledger_view()],
        ),
        "api/v1/ledger/containers/<container_id>": (
            _vial_url(),
            [_ledger_view()],
        ),
        "api/v1/ledger/containers/<container_id>/draws": (
            _vial_url("/draws"),
            [
                api(
                    "POST",
                    lm.draw_body,
                    anon=401,
                    admin=403,
                    clinician=403,
                    nurse=201,
                    intake=403,
                    patient=403,
                )
            ],
        ),
        "api/v1/ledger/draws/<draw_id>/waste": (
            lambda c: f"/api/v1/ledger/draws/{lm.draw(c).pk}/waste",
            [
                api(
                    "POST",
                    lm.waste_body,
                    anon=401,
                    admin=403,
                    clinician=403,
                    nurse=201,
                    intake=403,
                    patient=403,
                )
            ],
        ),
        "api/v1/ledger/containers/<container_id>/transfers": (
            _vial_url("/transfers"),
            [_admin_only("POST", lambda c: {"to_storage": lm.cabinet(c).pk}, 201)],
        ),
        "api/v1/ledger/containers/<container_id>/returns": (
            _vial_url("/returns"),
            [_admin_only("POST", lm.return_body, 201)],
        ),
        "api/v1/ledger/containers/<container_id>/destructions": (
            _vial_url("/destructions"),
            [_admin_only("POST", lm.destruction_body, 201)],
        ),
        "api/v1/ledger/containers/<container_id>/breakages": (
            _vial_url("/breakages"),
            [
                api(
                    "POST",
                    lm.breakage_body,
                    anon=401,
                    admin=201,
                    clinician=403,
                    nurse=201,
                    intake=403,
                    patient=403,
                )
            ],
        ),
        "api/v1/ledger/containers/<container_id>/losses": (
            _vial_url("/losses"),
            [_admin_only("POST", lm.loss_body, 201)],
        ),
        "api/v1/ledger/containers/<container_id>/quarantine": (
            _vial_url("/quarantine"),
            [_admin_only("POST", lambda c: {"reason": "recall"}, 201)],
        ),
        "api/v1/ledger/containers/<container_id>/release": (
            lm.quarantined_vial_url,
            [_admin_only("POST", lambda c: {"reason": "recall lifted"}, 201)],
        ),
        "api/v1/ledger/entries/<entry_id>": (
            lambda c: f"/api/v1/ledger/entries/{lm.draw(c).pk}",
            [_ledger_view()],
        ),
        "api/v1/ledger/entries/<entry_id>/corrections": (
            lambda c: f"/api/v1/ledger/entries/{lm.draw(c).pk}/corrections",
            [
                _admin_only(
                    "POST", lambda c: {"volume_ml": "-0.5", "reason": "typed 5, drew 4.5"}, 201
                )
            ],
        ),
        "api/v1/ledger/counts": (
            lambda c: "/api/v1/ledger/counts",
            [_admin_only("POST", lm.count_body, 201)],
        ),
        "api/v1/ledger/investigations": (
            lambda c: "/api/v1/ledger/investigations",
            [_admin_only("GET", None, 200)],
        ),
        "api/v1/ledger/investigations/<investigation_id>/resolve": (
            lm.investigation_url,
            [_admin_only("POST", lambda c: {"resolution": "recounted"}, 200)],
        ),
        "api/v1/ledger/inventories": (
            lambda c: "/api/v1/ledger/inventories",
            [
                _admin_only("POST", lm.inventory_body, 201),
                _admin_only("GET", None, 200),
            ],
        ),
        "api/v1/ledger/reports/dispensing": (
            lambda c: (
                f"/api/v1/ledger/reports/dispensing?location={lm.location(c).pk}"
                "&start=2026-01-01&end=2099-12-31"
            ),
            [_admin_only("GET", None, 200)],
        ),
        "api/v1/ledger/reports/reconciliation": (
            lambda c: "/api/v1/ledger/reports/reconciliation?start=2026-01-01&end=2099-12-31",
            [_admin_only("GET", None, 200)],
        ),
        "ledger/reports/dispensing/": (
            lambda c: f"/ledger/reports/dispensing/?location={lm.location(c).pk}",
            [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
        "ledger/reports/reconciliation/": (
            lm.page_url("reports/reconciliation/"),
            [_ledger_page(admin=200)],
        ),
        "ledger/": (
            lm.page_url(""),
            [_ledger_page(admin=200, clinician=200, nurse=200)],
        ),
        "ledger/containers/<int:container_id>/": (
            lm.page_url("containers/{vial}/"),
            [_ledger_page(admin=200, clinician=200, nurse=200)],
        ),
        # The form pages: shown to the role that may use them; an empty POST is told what is
        # missing (422), every other role is refused before anything is read.
        "ledger/containers/<int:container_id>/draw/": (
            lm.page_url("containers/{vial}/draw/"),
            [_ledger_page(nurse=200), _ledger_form(nurse=422)],
        ),
        "ledger/draws/<int:draw_id>/waste/": (
            lm.page_url("draws/{draw}/waste/"),
            [_ledger_page(nurse=200), _ledger_form(nurse=422)],
        ),
        "ledger/containers/<int:container_id>/quarantine/": (
            lm.page_url("containers/{vial}/quarantine/"),
            [_ledger_page(admin=200), _ledger_form(admin=422)],
        ),
        "ledger/containers/<int:container_id>/release/": (
            lm.page_url("containers/{vial}/release/"),
            [_ledger_page(admin=200), _ledger_form(admin=422)],
        ),
        "ledger/entries/<int:entry_id>/correct/": (
            lm.page_url("entries/{draw}/correct/"),
            [_ledger_page(admin=200), _ledger_form(admin=422)],
        ),
        "ledger/receipts/new/": (
            lm.page_url("receipts/new/"),
            [_ledger_page(admin=200), _ledger_form(admin=422)],
        ),
        "ledger/counts/new/": (
            lm.page_url("counts/new/?location={location}"),
            [_ledger_page(admin=200), _ledger_form(admin=422)],
        ),
        "ledger/investigations/<int:investigation_id>/resolve/": (
            lm.investigation_page_url,
            [_ledger_page(admin=200), _ledger_form(admin=422)],
        ),
    }
)


# Eligibility and consent: clinicians evaluate and decide, the administrator edits the rules,
# staff record consent; a patient reads their own consent documents and signatures.
from ketaclinic.eligibility.tests import matrix as em  # noqa: E402  the rows' builders


def _clinician_only(body: Callable[[Clinic], dict[str, Any]] | None, ok: int) -> Check:
    return api("POST", body, anon=401, admin=403, clinician=ok, nurse=403, intake=403, patient=403)


MATRIX.update(
    {
        "intake/rules/": (
            lambda c: "/intake/rules/",
            [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
        "intake/rules/form/": (
            lambda c: "/intake/rules/form/",
            [
                page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403),
                # An empty form: the administrator is told what is wrong, nobody else gets in.
                Check(
                    "POST",
                    _fill(
                        {
                            "anon": 302,
                            "admin": 422,
                            "clinician": 403,
                            "nurse": 403,
                            "intake": 403,
                            "patient": 403,
                        }
                    ),
                ),
            ],
        ),
        "intake/consent-documents/": (
            lambda c: "/intake/consent-documents/",
            [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
        "intake/consent-documents/<slug:code>/new-version/": (
            lambda c: "/intake/consent-documents/ketamine_treatment/new-version/",
            [
                page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403),
                Check(
                    "POST",
                    _fill(
                        {
                            "anon": 302,
                            "admin": 422,
                            "clinician": 403,
                            "nurse": 403,
                            "intake": 403,
                            "patient": 403,
                        }
                    ),
                ),
            ],
        ),
        "intake/patients/<uuid:patient_id>/evaluations/": (
            lambda c: f"/intake/patients/{em.patient_id(c)}/evaluations/",
            [page(anon=302, staff=200, patient=403)],
        ),
        "intake/patients/<uuid:patient_id>/evaluations/new/": (
            lambda c: f"/intake/patients/{em.patient_id(c)}/evaluations/new/",
            [page(anon=302, admin=403, clinician=200, nurse=403, intake=403, patient=403)],
        ),
        "intake/evaluations/<int:evaluation_id>/": (
            lambda c: em.evaluation_page_url(c),
            [page(anon=302, staff=200, patient=403)],
        ),
        "intake/evaluations/<int:evaluation_id>/decision/": (
            lambda c: em.evaluation_page_url(c, "decision/"),
            [
                page(anon=302, admin=403, clinician=200, nurse=403, intake=403, patient=403),
                # An empty form: the clinician is told what is missing, nobody else gets in.
                Check(
                    "POST",
                    _fill(
                        {
                            "anon": 302,
                            "admin": 403,
                            "clinician": 422,
                            "nurse": 403,
                            "intake": 403,
                            "patient": 403,
                        }
                    ),
                ),
            ],
        ),
        "intake/patients/<uuid:patient_id>/consent/": (
            lambda c: f"/intake/patients/{c.pat.pk}/consent/",
            [page(anon=302, staff=200, patient=403)],
        ),
        "intake/consents/<int:signature_id>/pdf/": (
            em.signature_pdf_url,
            [page(anon=302, staff=200, patient=200, therapist=403)],  # Pat's own signature
        ),
        "intake/sign/<str:token>/": (
            em.link_url,
            [page(anon=200, staff=200, patient=200)],  # the token is the key, not a login
        ),
        "api/v1/patients/<patient_id>/evaluations": (
            em.patient_url("/evaluations"),
            [
                api("GET", anon=401, staff=200, patient=403),
                _clinician_only(em.evaluation_body, 201),
            ],
        ),
        "api/v1/evaluations/<evaluation_id>": (
            em.evaluation_url,
            [api("GET", anon=401, staff=200, patient=403)],
        ),
        "api/v1/evaluations/<evaluation_id>/decision": (
            lambda c: em.evaluation_url(c, "/decision"),
            [_clinician_only(em.decision_body, 201)],
        ),
        "api/v1/consent-documents": (
            em.consent_documents_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "api/v1/patients/<patient_id>/consents": (
            em.patient_url("/consents"),
            [
                api("GET", anon=401, staff=200, patient=200),
                api("POST", em.witnessed_body, anon=401, staff=201, patient=403),
            ],
        ),
        "api/v1/patients/<patient_id>/consent-links": (
            em.patient_url("/consent-links"),
            [api("POST", lambda c: {}, anon=401, staff=201, patient=403)],
        ),
    }
)


@pytest.fixture(autouse=True)
def _inquiry_rate_limit_raised(settings: Any) -> None:
    # Every role posts an inquiry from the same test address: past the default limit of 5.
    settings.KETACLINIC_INQUIRY_RATE_PER_HOUR = 1000


# The session chart: nurses and clinicians chart, clinicians review holds and override, the
# administrator reads; intake and patients never see it. Writes run once per role in the
# matrix's order (anon, admin, clinician, nurse, ...), so a one-time step answers 409 the
# second time.
from ketaclinic.infusions.tests import matrix as im  # noqa: E402  the rows' builders


def _chart_view() -> Check:
    return api("GET", anon=401, admin=200, clinician=200, nurse=200, intake=403, patient=403)


def _chart_write(
    body: Callable[[Clinic], dict[str, Any]] | None, clinician: int, nurse: int
) -> Check:
    return api(
        "POST", body, anon=401, admin=403, clinician=clinician, nurse=nurse, intake=403, patient=403
    )


def _chart_page() -> Check:
    return page(anon=302, admin=200, clinician=200, nurse=200, intake=403, patient=403)


def _chart_post_only() -> Check:
    return page(anon=302, staff=405, patient=405)


def _chart_form(clinician: int, nurse: int) -> list[Check]:
    """A chart step's page form: GET is not allowed; an empty POST (clinician first, then the
    nurse on the same session) is the step, its refusal or the form's errors."""
    return [
        _chart_post_only(),
        form_post(anon=302, admin=403, clinician=clinician, nurse=nurse, intake=403, patient=403),
    ]


MATRIX.update(
    {
        "api/v1/sessions/<session_id>": (im.api_url("scheduled"), [_chart_view()]),
        "api/v1/sessions/<session_id>/check-in": (
            im.api_url("scheduled", "/check-in"),
            [_chart_write(None, 200, 409)],
        ),
        "api/v1/sessions/<session_id>/pre-checks": (
            im.api_url("checked_in", "/pre-checks"),
            [_chart_write(im.prechecks_body, 201, 201)],
        ),
        "api/v1/sessions/<session_id>/clinician-review": (
            im.api_url("checked_in", "/clinician-review"),
            [_chart_write(lambda c: {"reason": "Matrix"}, 201, 403)],
        ),
        "api/v1/sessions/<session_id>/draw-exception": (
            im.api_url("checked_in", "/draw-exception"),
            [_chart_write(lambda c: {"reason": "Matrix"}, 201, 403)],
        ),
        "api/v1/sessions/<session_id>/dose": (
            im.api_url("checked_in", "/dose"),
            [_chart_write(im.dose_body, 201, 201)],
        ),
        "api/v1/sessions/<session_id>/dose/second-check": (
            im.api_url("dosed_by_ada", "/dose/second-check"),
            [_chart_write(im.witness_ben_body, 200, 200)],
        ),
        "api/v1/sessions/<session_id>/start": (
            im.api_url("ready", "/start"),
            [_chart_write(None, 200, 409)],
        ),
        "api/v1/sessions/<session_id>/infusion": (
            im.api_url("infusing", "/infusion"),
            [
                _chart_write(
                    lambda c: {"action": "rate_change", "reason": "Matrix", "rate_ml_per_h": 100},
                    201,
                    201,
                )
            ],
        ),
        "api/v1/sessions/<session_id>/stop": (
            im.api_url("infusing", "/stop"),
            [_chart_write(lambda c: {"administered_volume_ml": 3}, 200, 409)],
        ),
        "api/v1/sessions/<session_id>/vitals": (
            im.api_url("infusing", "/vitals"),
            [_chart_write(im.vitals_body, 201, 201)],
        ),
        "api/v1/sessions/<session_id>/side-effects": (
            im.api_url("infusing", "/side-effects"),
            [_chart_write(im.side_effect_body, 201, 201)],
        ),
        "api/v1/sessions/<session_id>/assessments": (
            im.api_url("infusing", "/assessments"),
            [_chart_write(im.assessment_body, 201, 201)],
        ),
        "api/v1/sessions/<session_id>/alerts/<alert_id>/acknowledge": (
            im.alert_api_url,
            [
                _chart_write(
                    lambda c: {"note": "Matrix: infusion slowed, prescriber called"}, 200, 200
                )
            ],
        ),
        "api/v1/sessions/<session_id>/discharge": (
            im.api_url("recovery", "/discharge"),
            [_chart_write(im.discharge_body, 200, 409)],
        ),
        "api/v1/sessions/<session_id>/sign": (
            im.api_url("discharged", "/sign"),
            [_chart_write(None, 200, 200)],
        ),
        "api/v1/sessions/<session_id>/addenda": (
            im.api_url("signed", "/addenda"),
            [_chart_write(lambda c: {"text": "Matrix"}, 201, 201)],
        ),
        "infusions/board/": (lambda c: "/infusions/board/", [_chart_page()]),
        "infusions/board/rows/": (lambda c: "/infusions/board/rows/", [_chart_page()]),
        "infusions/sessions/<uuid:session_id>/": (im.page_url("infusing"), [_chart_page()]),
        "infusions/sessions/<uuid:session_id>/record.pdf": (
            im.page_url("infusing", "record.pdf"),
            [_chart_page()],
        ),
        "infusions/sessions/<uuid:session_id>/vitals/": (
            im.page_url("infusing", "vitals/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/alerts/<int:alert_id>/acknowledge/": (
            im.alert_page_url,
            [_chart_post_only()],
        ),
        "infusions/sessions/<uuid:session_id>/check-in/": (
            im.page_url("scheduled", "check-in/"),
            _chart_form(302, 409),
        ),
        "infusions/sessions/<uuid:session_id>/pre-checks/": (
            im.page_url("checked_in", "pre-checks/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/clinician-review/": (
            im.page_url("checked_in", "clinician-review/"),
            _chart_form(422, 403),
        ),
        "infusions/sessions/<uuid:session_id>/draw-exception/": (
            im.page_url("checked_in", "draw-exception/"),
            _chart_form(422, 403),
        ),
        "infusions/sessions/<uuid:session_id>/dose/": (
            im.page_url("checked_in", "dose/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/dose/second-check/": (
            im.page_url("dosed_by_ada", "dose/second-check/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/start/": (
            im.page_url("ready", "start/"),
            _chart_form(302, 409),
        ),
        "infusions/sessions/<uuid:session_id>/infusion/": (
            im.page_url("infusing", "infusion/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/stop/": (
            im.page_url("infusing", "stop/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/side-effects/": (
            im.page_url("infusing", "side-effects/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/assessments/": (
            im.page_url("infusing", "assessments/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/discharge/": (
            im.page_url("recovery", "discharge/"),
            _chart_form(422, 422),
        ),
        "infusions/sessions/<uuid:session_id>/sign/": (
            im.page_url("discharged", "sign/"),
            _chart_form(302, 302),
        ),
        "infusions/sessions/<uuid:session_id>/addenda/": (
            im.page_url("signed", "addenda/"),
            _chart_form(422, 422),
        ),
    }
)


# The courses pages' writes: a clinician starts and changes courses and orders doses, staff
# book, the administrator adds chairs. Each posts an empty form: the role that may use it is
# told what is missing (422), the others are refused (403); a GET is refused (405).


def _course_page_url(suffix: str) -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        course = _course_url()(c).rsplit("/", 1)[-1]
        return f"/courses/{course}/{suffix}"

    return build


def _clinician_form() -> Check:
    return form_post(anon=302, admin=403, clinician=422, nurse=403, intake=403, patient=403)


MATRIX.update(
    {
        "courses/patients/<uuid:patient_id>/start/": (
            lambda c: f"/courses/patients/{c.pat.pk}/start/",
            [page(anon=302, staff=405, patient=405), _clinician_form()],
        ),
        "courses/<uuid:course_id>/change/": (
            _course_page_url("change/"),
            [page(anon=302, staff=405, patient=405), _clinician_form()],
        ),
        "courses/<uuid:course_id>/dose-orders/": (
            _course_page_url("dose-orders/"),
            [page(anon=302, staff=405, patient=405), _clinician_form()],
        ),
        "courses/<uuid:course_id>/sessions/": (
            _course_page_url("sessions/"),
            [page(anon=302, staff=405, patient=405), form_post(anon=302, staff=422, patient=403)],
        ),
        "courses/chairs/": (
            lambda c: "/courses/chairs/",
            [
                page(anon=302, staff=200, patient=403),
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
    }
)


# Booking beyond one session: a series, free slots, and moving, cancelling or recording a
# booked session as not attended. Who books may; a patient never (403 before any body check).
def _booked_session(c: Clinic) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    from ketaclinic.courses.models import Chair, Course
    from ketaclinic.infusions.models import Session

    chair, _ = Chair.objects.get_or_create(name="Matrix chair")
    course = Course.objects.create(
        patient=c.pat, protocol_id=_protocol_id(c), started_by=c.users["ada"]
    )
    start = timezone.now().replace(microsecond=0) + timedelta(days=14 + Session.objects.count())
    return Session.objects.create(
        course=course,
        chair=chair,
        phase="induction",
        start=start,
        chair_until=start + timedelta(minutes=100),
        created_by=c.users["ben"],
    )


def _session_api(suffix: str) -> Callable[[Clinic], str]:
    return lambda c: f"/api/v1/sessions/{_booked_session(c).pk}{suffix}"


def _session_page(suffix: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/courses/sessions/{_booked_session(c).pk}/{suffix}"


def _proposal_body(_: Clinic) -> dict[str, Any]:
    from ketaclinic.courses.models import Chair

    Chair.objects.get_or_create(name="Matrix chair")
    return {"chair": "Matrix chair", "first_start": "2030-01-07T09:00:00+00:00", "count": 2}


def _matrix_chair_id() -> int:
    from ketaclinic.courses.models import Chair

    return Chair.objects.get(name="Matrix chair").pk


def _past_start(_: Clinic) -> str:
    return "2020-01-06T09:00:00+00:00"


def _staff_form() -> list[Check]:
    return [page(anon=302, staff=405, patient=405), form_post(anon=302, staff=422, patient=403)]


def _admin_page() -> Check:
    return page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)


def _admin_form(admin: int = 422) -> list[Check]:
    return [
        page(anon=302, staff=405, patient=405),
        form_post(anon=302, admin=admin, clinician=403, nurse=403, intake=403, patient=403),
    ]


def _user_url(suffix: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/setup/users/{c.users['ben'].pk}/{suffix}"


def _location_url(suffix: str) -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        from datetime import date

        from ketaclinic.ledger.models import RegisteredLocation

        location = RegisteredLocation.objects.create(
            name="Matrix",
            registrant_name="Matrix",
            address="1 Street",
            dea_number="AB1234563",
            dea_expiry=date(2030, 1, 1),
            created_by=c.users["dana"],
        )
        return f"/ledger/locations/{location.pk}/{suffix}"

    return build


# Bedside monitors: the administrator registers monitors; nurses and clinicians assign the
# readings no session could take; the chart's confirm and artefact posts are the chart's.


def _device_url(_: Clinic) -> str:
    from ketaclinic.monitors.models import MonitorDevice

    device = MonitorDevice.objects.create(name="Matrix monitor", device_id=f"M{timezone.now():%f}")
    return f"/monitors/devices/{device.pk}/"


def _queued_url(suffix: str) -> Callable[[Clinic], str]:
    def build(_: Clinic) -> str:
        from ketaclinic.monitors.models import MonitorMessage

        row = MonitorMessage.objects.create(
            raw="MSH|^~\\&|X|Y|||20261202||ORU^R01|M1|P|2.6\r", status="unassigned", ack_code="AA"
        )
        return f"/monitors/unassigned/{row.pk}/{suffix}"

    return build


# Outcomes: the clinic's figures are for clinicians and the administrator; a course's outcome
# summary is read like the course (staff, and the patient their own).
def _public_figure_url(c: Clinic) -> str:
    from ketaclinic.outcomes.publishing import figure_choose

    figure = figure_choose(acting_user=c.users["dana"], measure="gad7", timepoint="infusion:4")
    return f"/outcomes/publish/{figure.pk}/approve/"


def _outcomes_page(**allowed: int) -> Check:
    denied = {role: 403 for role in ("admin", "clinician", "nurse", "intake", "patient")}
    return page(**({"anon": 302} | denied | allowed))


def _admin_page_and_form() -> list[Check]:
    return [
        page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403),
        form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
    ]


def _queue_post() -> list[Check]:
    return [
        page(anon=302, staff=405, patient=405),
        form_post(anon=302, admin=403, clinician=302, nurse=302, intake=403, patient=403),
    ]


MATRIX.update(
    {
        "courses/<uuid:course_id>/series/": (
            _course_page_url("series/"),
            [page(anon=302, staff=200, patient=403), form_post(anon=302, staff=422, patient=403)],
        ),
        "courses/sessions/<uuid:session_id>/": (
            _session_page(),
            [page(anon=302, staff=200, patient=403)],
        ),
        "courses/sessions/<uuid:session_id>/cancel/": (_session_page("cancel/"), _staff_form()),
        "courses/sessions/<uuid:session_id>/no-show/": (_session_page("no-show/"), _staff_form()),
        "courses/sessions/<uuid:session_id>/reschedule/": (
            _session_page("reschedule/"),
            _staff_form(),
        ),
        "courses/schedule/day/<str:day>/free/": (
            lambda c: "/courses/schedule/day/2030-01-07/free/",
            [page(anon=302, staff=200, patient=403)],
        ),
        "api/v1/courses/<course_id>/series-proposal": (
            _course_url("/series-proposal"),
            [
                api(
                    "POST",
                    _proposal_body,
                    anon=401,
                    staff=200,
                    patient=403,
                )
            ],
        ),
        # A start in the past: every role that books is refused by the rules (409).
        "api/v1/courses/<course_id>/series": (
            _course_url("/series"),
            [
                api(
                    "POST",
                    lambda c: {"chair": _proposal_body(c)["chair"], "starts": [_past_start(c)]},
                    anon=401,
                    staff=409,
                    patient=403,
                )
            ],
        ),
        "api/v1/chairs/free-slots": (
            lambda c: "/api/v1/chairs/free-slots?day=2030-01-07",
            [api("GET", anon=401, staff=200, patient=403)],
        ),
        # One session: the administrator cancels it; for the next roles it is cancelled (409).
        "api/v1/sessions/<session_id>/cancel": (
            _session_api("/cancel"),
            [
                api(
                    "POST",
                    lambda c: {"reason": "Matrix"},
                    anon=401,
                    admin=200,
                    clinician=409,
                    nurse=409,
                    intake=409,
                    patient=403,
                )
            ],
        ),
        # A session on a later day cannot be a no-show (409) for any role that books.
        "api/v1/sessions/<session_id>/no-show": (
            _session_api("/no-show"),
            [api("POST", lambda c: {"reason": "Matrix"}, anon=401, staff=409, patient=403)],
        ),
        "api/v1/sessions/<session_id>/reschedule": (
            _session_api("/reschedule"),
            [
                api(
                    "POST",
                    lambda c: {"start": _past_start(c), "chair": "Matrix chair", "reason": "x"},
                    anon=401,
                    staff=409,
                    patient=403,
                )
            ],
        ),
        # An empty form leaves the chair bookable at any time: the administrator's change.
        "courses/chairs/<int:chair_id>/": (
            lambda c: f"/courses/chairs/{_proposal_body(c) and _matrix_chair_id()}/",
            [_admin_page(), *_admin_form(admin=302)[1:]],
        ),
        # A protocol's numbers as a form: an empty POST changes nothing (422 for the admin).
        "courses/protocols/<int:protocol_id>/edit/": (
            lambda c: f"/courses/protocols/{_protocol_id(c)}/edit/",
            [_admin_page(), *_admin_form()[1:]],
        ),
        # The administrator's setup pages.
        "setup/": (lambda c: "/setup/", [_admin_page()]),
        "setup/users/": (
            lambda c: "/setup/users/",
            [
                _admin_page(),
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "setup/users/<int:user_id>/": (_user_url(), [_admin_page()]),
        "setup/users/<int:user_id>/role/": (_user_url("role/"), _admin_form()),
        "setup/users/<int:user_id>/password/": (_user_url("password/"), _admin_form()),
        "setup/users/<int:user_id>/lock/": (_user_url("lock/"), _admin_form()),
        "setup/users/<int:user_id>/unlock/": (_user_url("unlock/"), _admin_form()),
        "setup/users/<int:user_id>/two-factor-reset/": (
            _user_url("two-factor-reset/"),
            _admin_form(),
        ),
        "ledger/locations/": (
            lambda c: "/ledger/locations/",
            [
                _admin_page(),
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "ledger/locations/<int:location_id>/storage/": (
            _location_url("storage/"),
            _admin_form(),
        ),
        # An empty form turns the witness requirement off: the administrator's change (302).
        "ledger/locations/<int:location_id>/witness-policy/": (
            _location_url("witness-policy/"),
            _admin_form(admin=302),
        ),
        "outcomes/": (lambda c: "/outcomes/", [_outcomes_page(admin=200, clinician=200)]),
        "outcomes/csv/<str:table>/": (
            lambda c: "/outcomes/csv/rates/",
            [_outcomes_page(admin=200, clinician=200)],
        ),
        "outcomes/refresh/": (
            lambda c: "/outcomes/refresh/",
            [
                page(anon=302, staff=405, patient=405),
                form_post(anon=302, admin=302, clinician=302, nurse=403, intake=403, patient=403),
            ],
        ),
        "outcomes/export/": (
            lambda c: "/outcomes/export/",
            [
                _outcomes_page(admin=200),
                # an empty form: no mode, refused with the reason (422)
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "outcomes/public/": (
            lambda c: "/outcomes/public/",
            [page(anon=200, staff=200, patient=200)],
        ),
        "outcomes/publish/": (
            lambda c: "/outcomes/publish/",
            [
                _outcomes_page(admin=200, clinician=200),
                form_post(anon=302, admin=302, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "outcomes/publish/<int:figure_id>/approve/": (
            _public_figure_url,
            [
                page(anon=302, staff=405, patient=405),
                form_post(anon=302, admin=403, clinician=302, nurse=403, intake=403, patient=403),
            ],
        ),
        "api/v1/outcomes/clinic": (
            lambda c: "/api/v1/outcomes/clinic?measure=gad7&timepoint=infusion:4",
            [api("GET", anon=401, admin=200, clinician=200, nurse=403, intake=403, patient=403)],
        ),
        "api/v1/outcomes/courses/<course_id>": (
            lambda c: _course_url()(c).replace("/api/v1/courses/", "/api/v1/outcomes/courses/"),
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "monitors/devices/": (lambda c: "/monitors/devices/", _admin_page_and_form()),
        "monitors/devices/<int:device_id>/": (_device_url, _admin_page_and_form()),
        "monitors/unassigned/": (
            lambda c: "/monitors/unassigned/",
            [page(anon=302, admin=403, clinician=200, nurse=200, intake=403, patient=403)],
        ),
        "monitors/unassigned/<int:message_id>/assign/": (_queued_url("assign/"), _queue_post()),
        "monitors/unassigned/<int:message_id>/dismiss/": (_queued_url("dismiss/"), _queue_post()),
        "infusions/sessions/<uuid:session_id>/monitor/confirm/": (
            im.page_url("checked_in", "monitor/confirm/"),
            _chart_form(302, 302),
        ),
        "infusions/sessions/<uuid:session_id>/monitor/<int:reading_id>/artefact/": (
            lambda c: f"{im.page_url('checked_in', 'monitor/')(c)}999999/artefact/",
            _chart_form(302, 302),
        ),
    }
)

from ketaclinic.portal.tests import matrix as pm  # noqa: E402  the rows' builders

# The patient portal: the patient's own pages (staff 403: theirs are the staff pages), the
# invitation link (no login: its token is the key) and the staff's invite button.
MATRIX.update(
    {
        "portal/": (lambda c: "/portal/", [page(anon=302, staff=403, patient=200)]),
        "portal/sessions/<uuid:session_id>/ride/": (
            pm.ride_url,
            # an empty form: the confirmation box is not ticked (422)
            [page(anon=302, staff=403, patient=200), form_post(anon=302, staff=403, patient=422)],
        ),
        "portal/questionnaires/<slug:code>/": (
            pm.due_questionnaire_url,
            # an empty form: every question needs an answer (422)
            [page(anon=302, staff=403, patient=200), form_post(anon=302, staff=403, patient=422)],
        ),
        "portal/questionnaires-sent/": (
            lambda c: "/portal/questionnaires-sent/",
            [page(anon=302, staff=403, patient=200)],
        ),
        "portal/scores/": (lambda c: "/portal/scores/", [page(anon=302, staff=403, patient=200)]),
        "portal/contact/": (
            lambda c: "/portal/contact/",
            # an empty form is a valid one (every contact field may be left empty): saved, 302
            [page(anon=302, staff=403, patient=200), form_post(anon=302, staff=403, patient=302)],
        ),
        "portal/welcome/": (
            lambda c: "/portal/welcome/",
            [page(anon=410, staff=410, patient=410)],
        ),
        # A token that is not one: moved out of the address bar (302), then refused (410).
        "portal/welcome/<str:uidb64>/<str:token>/": (
            lambda c: "/portal/welcome/MQ/not-a-token/",
            [page(anon=302, staff=302, patient=302)],
        ),
        # Pat already has an account: refused with a message on the staff page (302).
        "portal/invite/<uuid:patient_id>/": (
            lambda c: f"/portal/invite/{c.pat.pk}/",
            [
                page(anon=302, staff=405, patient=405),
                form_post(anon=302, admin=302, clinician=302, nurse=403, intake=302, patient=403),
            ],
        ),
    }
)


# Secure messages (ketaclinic/messaging/): the patient's own threads in the portal (staff 403:
# theirs is the inbox); the care team's inbox and threads (a patient: 403 on the inbox, 404 on
# a thread's pages, as for any staff page about one patient); the administrator's word list.
MATRIX.update(
    {
        "portal/messages/": (
            lambda c: "/portal/messages/",
            [page(anon=302, staff=403, patient=200)],
        ),
        "portal/messages/new/": (
            lambda c: "/portal/messages/new/",
            # an empty form: a subject and a message are needed (422)
            [page(anon=302, staff=403, patient=200), form_post(anon=302, staff=403, patient=422)],
        ),
        "portal/messages/<uuid:thread_id>/": (
            pm.message_thread_url,
            [page(anon=302, staff=403, patient=200), form_post(anon=302, staff=403, patient=422)],
        ),
        "portal/messages/attachments/<uuid:attachment_id>/": (
            pm.message_attachment_url,
            [page(anon=302, staff=403, patient=200)],
        ),
        "messages/": (lambda c: "/messages/", [page(anon=302, staff=200, patient=403)]),
        "messages/threads/<uuid:thread_id>/": (
            pm.staff_thread_url,
            [page(anon=302, staff=200, patient=404), form_post(anon=302, staff=422, patient=404)],
        ),
        # An empty form unassigns the thread (302).
        "messages/threads/<uuid:thread_id>/assign/": (
            lambda c: pm.staff_thread_url(c, "assign/"),
            [page(anon=302, staff=405, patient=405), form_post(anon=302, staff=302, patient=404)],
        ),
        "messages/threads/<uuid:thread_id>/urgent-clear/": (
            lambda c: pm.staff_thread_url(c, "urgent-clear/"),
            [page(anon=302, staff=405, patient=405), form_post(anon=302, staff=302, patient=404)],
        ),
        "messages/attachments/<uuid:attachment_id>/": (
            pm.staff_attachment_url,
            [page(anon=302, staff=200, patient=404)],
        ),
        "messages/patients/<uuid:patient_id>/": (
            lambda c: f"/messages/patients/{c.pat.pk}/",
            [page(anon=302, staff=200, patient=404)],
        ),
        # Staff write first to a patient (an empty form: 422 where the role may post).
        "messages/patients/<uuid:patient_id>/new/": (
            lambda c: f"/messages/patients/{c.pat.pk}/new/",
            [
                page(anon=302, staff=200, patient=404),
                form_post(anon=302, staff=422, patient=404),
            ],
        ),
        "messages/urgent-words/": (
            lambda c: "/messages/urgent-words/",
            [
                page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403),
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
    }
)


# Reminders (ketaclinic/reminders/): the patient's settings in the portal (an empty form is a
# valid one: no channel, no quiet hours; saved, 302); staff see a patient's reminders and the
# list of failed or unconfirmed ones.
MATRIX.update(
    {
        "portal/reminders/": (
            lambda c: "/portal/reminders/",
            [page(anon=302, staff=403, patient=200), form_post(anon=302, staff=403, patient=302)],
        ),
        "reminders/attention/": (
            lambda c: "/reminders/attention/",
            [page(anon=302, staff=200, patient=403)],
        ),
        "reminders/patients/<uuid:patient_id>/": (
            lambda c: f"/reminders/patients/{c.pat.pk}/",
            [page(anon=302, staff=200, patient=404)],
        ),
        # Staff act on a failed reminder (a fresh one per request): sent again (302); taken
        # off the list needs a note (an empty form: 422).
        "reminders/attention/<uuid:delivery_id>/send-again/": (
            lambda c: f"/reminders/attention/{_failed_reminder(c)}/send-again/",
            [form_post(anon=302, staff=302, patient=404)],
        ),
        "reminders/attention/<uuid:delivery_id>/handled/": (
            lambda c: f"/reminders/attention/{_failed_reminder(c)}/handled/",
            [form_post(anon=302, staff=422, patient=404)],
        ),
    }
)


def _failed_reminder(c: Clinic) -> str:
    from ketaclinic.reminders.models import Channel, Delivery, DeliveryStatus, Kind

    return str(
        Delivery.objects.create(
            event_key=f"matrix:{uuid.uuid4()}",
            channel=Channel.SMS,
            kind=Kind.QUESTIONNAIRE_DUE,
            patient=c.pat,
            status=DeliveryStatus.FAILED,
        ).pk
    )


def _smart_client_url(c: Clinic) -> str:
    from ketaclinic.fhir.smart.tests.keys import register

    return f"/setup/programs/{register(c, 'system/Observation.rs')[0].pk}/"


# SMART Backend Services (ketaclinic/fhir/smart/): discovery is public; the token endpoint
# takes a signed assertion, not a person's token (400 without one, for anyone); programs
# are registered by the administrator.
MATRIX.update(
    {
        "fhir/R4/.well-known/smart-configuration": (
            lambda c: "/fhir/R4/.well-known/smart-configuration",
            [api("GET", anon=200, staff=200, patient=200)],
        ),
        "fhir/R4/auth/token": (
            lambda c: "/fhir/R4/auth/token",
            [api("POST", anon=400, staff=400, patient=400)],
        ),
        "setup/programs/": (
            lambda c: "/setup/programs/",
            [
                page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403),
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "setup/programs/<int:client_pk>/": (
            _smart_client_url,
            [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
    }
)


# FHIR Bulk Data export (ketaclinic/fhir/bulk/) and Groups: administrators only (fhir.export).
# A kick-off without ``Prefer: respond-async`` is a 400 for the administrator (the header is
# required; the matrix sends none), after the 403 that every other role gets.
def _bulk_cohort(c: Clinic) -> Any:
    from ketaclinic.fhir.bulk.services import cohort_define

    return cohort_define(acting_user=c.users["dana"], name="Matrix", patient_ids=[c.pat.pk])


def _bulk_export(c: Clinic, *, completed: bool = False) -> Any:
    from ketaclinic.fhir.bulk.models import BulkExportFile, ExportStatus
    from ketaclinic.fhir.bulk.params import KickOff
    from ketaclinic.fhir.bulk.services import bulk_export_start
    from ketaclinic.fhir.bulk.writer import attempt_dir

    export = bulk_export_start(
        acting_user=c.users["dana"],
        kind="system",
        cohort=None,
        kick_off=KickOff(types=["Patient"]),
        request_url="matrix",
    )
    if completed:
        folder = attempt_dir(export)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Patient-1.ndjson").write_text('{"resourceType":"Patient","id":"x"}\n')
        BulkExportFile.objects.create(
            export=export, part="output", resource_type="Patient", name="Patient-1.ndjson", count=1
        )
        export.status = ExportStatus.COMPLETED
        export.save(update_fields=["status"])
    return export


def _kick_off() -> list[Check]:
    return [api("GET", anon=401, admin=400, clinician=403, nurse=403, intake=403, patient=403)]


MATRIX.update(
    {
        "fhir/R4/$export": (lambda c: "/fhir/R4/$export", _kick_off()),
        "fhir/R4/Patient/$export": (lambda c: "/fhir/R4/Patient/$export", _kick_off()),
        "fhir/R4/Group/<str:resource_id>/$export": (
            lambda c: f"/fhir/R4/Group/{_bulk_cohort(c).pk}/$export",
            _kick_off(),
        ),
        "fhir/R4/$export-poll/<uuid:export_id>": (
            lambda c: f"/fhir/R4/$export-poll/{_bulk_export(c).pk}",
            [
                api("GET", anon=401, admin=202, staff=404, patient=404),
                api("DELETE", anon=401, admin=202, staff=404, patient=404),
            ],
        ),
        "fhir/R4/$export-file/<uuid:export_id>/<str:name>": (
            lambda c: (
                f"/fhir/R4/$export-file/{_bulk_export(c, completed=True).pk}/Patient-1.ndjson"
            ),
            [api("GET", anon=401, admin=200, staff=404, patient=404)],
        ),
        # Others search Groups and find none (they may not export).
        "fhir/R4/Group": (
            lambda c: "/fhir/R4/Group",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Group/<str:resource_id>": (
            lambda c: f"/fhir/R4/Group/{_bulk_cohort(c).pk}",
            [api("GET", anon=401, admin=200, staff=404, patient=404)],
        ),
    }
)

# The language switch of the patient-facing pages: anyone may post it (a visitor's cookie, a
# patient's kept language; staff pages stay English whatever it says).
MATRIX.update(
    {
        "i18n/language/": (
            lambda c: "/i18n/language/",
            [page(anon=405, staff=405, patient=405), form_post(anon=302, staff=302, patient=302)],
        ),
    }
)


def test_every_url_pattern_is_in_the_matrix() -> None:
    routes = all_routes()
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"URL patterns with no row in the role matrix: {sorted(missing)}"
    assert not stale, f"matrix rows for URL patterns that no longer exist: {sorted(stale)}"


# FHIR: the clinical record (issue 16): diagnoses, allergies, dose orders, the ledger's
# containers as Medications (staff who see the ledger, and the patient whose dose it was), and
# the transaction import (staff who may register patients).
from ketaclinic.fhir.tests import matrix as fm  # noqa: E402  the rows' builders

MATRIX.update(
    {
        "fhir/R4/": (
            lambda c: "/fhir/R4/",
            [
                api(
                    "POST",
                    fm.transaction_bundle,
                    anon=401,
                    admin=200,
                    clinician=200,
                    nurse=403,
                    intake=200,
                    patient=403,
                )
            ],
        ),
        "fhir/R4/Condition": (
            lambda c: f"/fhir/R4/Condition?patient={c.pat.pk}&clinical-status=active",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Condition/<str:resource_id>": (
            fm.condition_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/AllergyIntolerance": (
            lambda c: f"/fhir/R4/AllergyIntolerance?patient={c.pat.pk}",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/AllergyIntolerance/<str:resource_id>": (
            fm.allergy_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/MedicationRequest": (
            lambda c: f"/fhir/R4/MedicationRequest?patient={c.pat.pk}",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/MedicationRequest/<str:resource_id>": (
            fm.medication_request_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Medication": (
            lambda c: "/fhir/R4/Medication",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Medication/<str:resource_id>": (
            fm.medication_url,
            # intake does not see the ledger: 404, as for a container that does not exist
            [api("GET", anon=401, admin=200, clinician=200, nurse=200, intake=404, patient=200)],
        ),
    }
)


# Referrals and letters (ketaclinic/letters/): intake, clinicians and the administrator record
# referrals; staff read letters and referral PDFs; clinicians draft, sign and send; the
# administrator edits the templates. A patient: 404 on a record's pages (their letters are in
# the portal), 403 on the lists. The portal's documents: the patient's own.
from ketaclinic.letters.tests import matrix as letters_rows  # noqa: E402  the rows' builders

_CLINICIAN_FORM = form_post(anon=302, admin=403, clinician=422, nurse=403, intake=403, patient=404)
MATRIX.update(
    {
        "letters/inquiries/<int:inquiry_id>/referrals/": (
            letters_rows.inquiry_referrals_url,
            [
                page(anon=302, admin=200, clinician=200, nurse=403, intake=200, patient=403),
                form_post(anon=302, admin=422, clinician=422, nurse=403, intake=422, patient=403),
            ],
        ),
        "letters/referrals/<uuid:referral_id>/pdf/": (
            letters_rows.referral_pdf_url,
            [page(anon=302, staff=200, patient=404)],
        ),
        "letters/patients/<uuid:patient_id>/": (
            lambda c: f"/letters/patients/{c.pat.pk}/",
            [page(anon=302, staff=200, patient=404), _CLINICIAN_FORM],
        ),
        "letters/patients/<uuid:patient_id>/recipients/": (
            lambda c: f"/letters/patients/{c.pat.pk}/recipients/",
            [page(anon=302, staff=405, patient=405), _CLINICIAN_FORM],
        ),
        "letters/<uuid:letter_id>/": (
            letters_rows.draft_url(),
            [page(anon=302, staff=200, patient=404), _CLINICIAN_FORM],
        ),
        # The clinician signs the draft (302); the roles after her may not.
        "letters/<uuid:letter_id>/sign/": (
            letters_rows.draft_url("sign/"),
            [
                page(anon=302, staff=405, patient=405),
                form_post(anon=302, admin=403, clinician=302, nurse=403, intake=403, patient=404),
            ],
        ),
        # An empty form: how to send is required (422).
        "letters/<uuid:letter_id>/send/": (
            letters_rows.signed_url("send/"),
            [page(anon=302, staff=405, patient=405), _CLINICIAN_FORM],
        ),
        "letters/<uuid:letter_id>/pdf/": (
            letters_rows.signed_url("pdf/"),
            [page(anon=302, staff=200, patient=404)],
        ),
        "letters/templates/": (
            lambda c: "/letters/templates/",
            [page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
        "letters/templates/<slug:kind>/": (
            lambda c: "/letters/templates/evaluation/",
            [
                page(anon=302, admin=200, clinician=403, nurse=403, intake=403, patient=403),
                form_post(anon=302, admin=422, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "letters/templates/<slug:kind>/default/": (
            lambda c: "/letters/templates/evaluation/default/",
            [
                page(anon=302, staff=405, patient=405),
                form_post(anon=302, admin=302, clinician=403, nurse=403, intake=403, patient=403),
            ],
        ),
        "portal/documents/": (
            lambda c: "/portal/documents/",
            [page(anon=302, staff=403, patient=200)],
        ),
        "portal/documents/letters/<uuid:letter_id>/": (
            letters_rows.portal_letter_url,
            [page(anon=302, staff=403, patient=200)],
        ),
        "portal/documents/sessions/<uuid:session_id>/after/": (
            letters_rows.portal_discharge_url,
            [page(anon=302, staff=403, patient=200)],
        ),
    }
)


def _client(clinic: Clinic, role: str, check: Check) -> Client:
    username = PERSONA[role]
    if username is None:
        return Client()
    if username not in clinic.users:
        from ketaclinic.careplan.samples import therapist_get_or_create

        clinic.users[username] = therapist_get_or_create(username)
    if check.api:
        return clinic.api(username)
    return clinic.client(username)


def _holds_nothing(response: Any) -> bool:
    """Refused, or a 200 whose list or Bundle holds no entry."""
    if response.status_code in (403, 404, 422):
        return True
    if response.status_code != 200:
        return False
    data = json.loads(response.content)
    if isinstance(data, list):
        return data == []
    return isinstance(data, dict) and data.get("resourceType") == "Bundle" and not data.get("entry")


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_role_matrix(clinic: Clinic, route: str) -> None:
    build, checks = MATRIX[route]
    url = build(clinic)
    wrong = []
    for check in checks:
        for role in ROLES:
            client = _client(clinic, role, check)
            kwargs: dict[str, Any] = {}
            if check.body is not None:
                body = json.dumps(check.body(clinic))
                kwargs = {"data": body, "content_type": "application/json"}
            response = client.generic(check.method, url, **kwargs)
            expected = check.expect[role]
            if expected == REFUSED and response.status_code in (403, 404, 422):
                continue
            if expected == NOTHING and _holds_nothing(response):
                continue
            if response.status_code != expected:
                wrong.append(
                    f"{check.method} {route} as {role}: {response.status_code}, "
                    f"matrix says {check.expect[role]}"
                )
    assert not wrong, "\n".join(wrong)


# A patient's pages are the portal's; what they may still open elsewhere, and why.
PATIENT_OUTSIDE_THE_PORTAL = {
    "": "the front door: sends a patient to the portal (302)",
    "i18n/language/": "the language switch of every patient-facing page: back where it was (302)",
    "me/": "the old address of a patient's record: sends them to the portal (302)",
    "intake/consents/<int:signature_id>/pdf/": (
        "their own signed consent's PDF copy, linked from the portal's documents page "
        "(/portal/documents/)"
    ),
}


def test_a_patient_never_gets_a_staff_page() -> None:
    """Every page that needs a sign-in, outside the portal, the account pages and the APIs,
    answers a patient 403 or 404 (405 to a GET of a form's POST address): the staff pages are
    never the patient's. Read from the matrix, which test_role_matrix checks against the app."""
    wrong = []
    for route, (_build, checks) in MATRIX.items():
        if route.startswith(("portal/", "account/", "api/", "fhir/")) or route in (
            PATIENT_OUTSIDE_THE_PORTAL
        ):
            continue
        for check in checks:
            if check.api or check.expect["anon"] != 302:
                continue  # public pages and token links: no sign-in, nothing of the staff's
            if check.expect["patient"] not in (403, 404, 405):
                wrong.append(f"{check.method} {route}: {check.expect['patient']}")
    assert not wrong, "staff pages a patient may open:\n" + "\n".join(wrong)


# FHIR: staff roles, documents and their content, the audit trail (administrator only),
# Provenance, history and versioned reads, $everything. Staff read any patient's, Pat her own.
from ketaclinic.fhir.tests import matrix as fm  # noqa: E402  the rows' builders

MATRIX.update(
    {
        "fhir/R4/PractitionerRole": (
            lambda c: "/fhir/R4/PractitionerRole?role=nurse&active=true",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/PractitionerRole/<str:resource_id>": (
            lambda c: f"/fhir/R4/PractitionerRole/role-{c.users['ben'].pk}",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/DocumentReference": (
            lambda c: f"/fhir/R4/DocumentReference?patient={c.pat.pk}&category=consent",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/DocumentReference/<str:resource_id>": (
            fm.document_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Binary/<str:resource_id>": (
            fm.binary_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/AuditEvent": (
            lambda c: f"/fhir/R4/AuditEvent?patient={c.pat.pk}&action=R",
            [api("GET", anon=401, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
        "fhir/R4/AuditEvent/<str:resource_id>": (
            fm.audit_event_url,
            [api("GET", anon=401, admin=200, clinician=403, nurse=403, intake=403, patient=403)],
        ),
        "fhir/R4/Provenance": (
            lambda c: f"/fhir/R4/Provenance?patient={c.pat.pk}",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Provenance/<str:resource_id>": (
            fm.provenance_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/Patient/<str:resource_id>/$everything": (
            lambda c: f"/fhir/R4/Patient/{c.pat.pk}/$everything?_count=5",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/<str:type_name>/<str:resource_id>/_history": (
            lambda c: f"/fhir/R4/Patient/{c.pat.pk}/_history",
            [api("GET", anon=401, staff=200, patient=200)],
        ),
        "fhir/R4/<str:type_name>/<str:resource_id>/_history/<str:version_id>": (
            fm.version_url,
            [api("GET", anon=401, staff=200, patient=200)],
        ),
    }
)


# Care plans and integration notes (issue 15, h15-careplan): clinicians write and sign plans,
# nurses and the administrator read them, the therapist the plans that name them; intake and
# patients never see the staff pages; the patient reads their own signed plan in the portal.
from ketaclinic.careplan.tests import matrix as cm  # noqa: E402  the rows' builders


def _plan_page(**overrides: int) -> Check:
    allowed = {"admin": 200, "clinician": 200, "nurse": 200, "therapist": 200}
    return page(**{"anon": 302, "intake": 403, "patient": 403, **allowed, **overrides})


def _therapist_only(ok: int, others: int = 403) -> Check:
    return page(anon=302, staff=others, patient=others, therapist=ok)


def _post_only() -> Check:
    return page(anon=302, staff=405, patient=405, therapist=405)


MATRIX.update(
    {
        "care-plans/patients/<uuid:patient_id>/": (cm.plan_url(""), [_plan_page()]),
        "care-plans/patients/<uuid:patient_id>/draft/": (
            cm.plan_url("draft/"),
            [
                _post_only(),
                form_post(
                    anon=302,
                    admin=403,
                    clinician=302,
                    nurse=403,
                    intake=403,
                    patient=403,
                    therapist=403,
                ),
            ],
        ),
        # An empty editor form is refused (422): the formsets' management data is missing.
        "care-plans/patients/<uuid:patient_id>/edit/": (
            cm.draft_url,
            [
                page(
                    anon=302,
                    admin=403,
                    clinician=200,
                    nurse=403,
                    intake=403,
                    patient=403,
                    therapist=403,
                ),
                form_post(
                    anon=302,
                    admin=403,
                    clinician=422,
                    nurse=403,
                    intake=403,
                    patient=403,
                    therapist=403,
                ),
            ],
        ),
        "care-plans/patients/<uuid:patient_id>/versions/": (
            cm.plan_url("versions/"),
            [_plan_page()],
        ),
        "care-plans/patients/<uuid:patient_id>/versions/<int:number>/": (
            cm.plan_url("versions/1/"),
            [_plan_page()],
        ),
        # An empty check-in: told to write one, back to the plan (302).
        "care-plans/patients/<uuid:patient_id>/checkins/": (
            cm.plan_url("checkins/"),
            [
                _post_only(),
                form_post(
                    anon=302,
                    admin=403,
                    clinician=302,
                    nurse=302,
                    intake=403,
                    patient=403,
                    therapist=302,
                ),
            ],
        ),
        "care-plans/therapist/": (lambda c: "/care-plans/therapist/", [_therapist_only(200)]),
        # An empty note: the themes and the risk check are needed (422).
        "care-plans/patients/<uuid:patient_id>/notes/new/": (
            cm.plan_url("notes/new/"),
            [
                _therapist_only(200),
                form_post(anon=302, staff=403, patient=403, therapist=422),
            ],
        ),
        # Another's note is 404 for everyone but its therapist (ids say nothing).
        "care-plans/notes/<int:note_id>/": (
            cm.note_url(signed=False),
            [
                _therapist_only(200, others=404),
                form_post(anon=302, staff=404, patient=404, therapist=422),
            ],
        ),
        "care-plans/notes/<int:note_id>/addenda/": (
            cm.note_url(signed=True, suffix="addenda/"),
            [
                _post_only(),
                form_post(anon=302, staff=404, patient=404, therapist=302),
            ],
        ),
        "portal/care-plan/": (
            cm.portal_url,
            [page(anon=302, staff=403, patient=200, therapist=403)],
        ),
        # FHIR CarePlan: intake and the therapist read none through FHIR (a search is empty).
        "fhir/R4/CarePlan": (
            cm.fhir_url(search=True),
            [api("GET", anon=401, staff=200, patient=200, therapist=200)],
        ),
        "fhir/R4/CarePlan/<str:resource_id>": (
            cm.fhir_url(search=False),
            [api("GET", anon=401, staff=200, intake=404, patient=200, therapist=404)],
        ),
    }
)
