"""Drives a session chart through its API as the personas would: a booked session of Pat's on
the IV protocol, a prescriber on site, ketamine in the ledger's safe (received by Admin Dana) for
Nurse Ben to draw the dose from. Used by the chart tests and the URL matrix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_UP, Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from ketaclinic.courses.models import Chair, Course, PrescriberPresence, Protocol
from ketaclinic.infusions.models import DoseCheck, Session
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.testing import PASSWORD, Clinic, totp_now


def shipped_protocol_row(code: str = IV_RACEMIC_0_5_MG_KG_40_MIN) -> Protocol:
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure

    shipped_rows_ensure()  # a transactional test's flush removes the migration's rows
    return Protocol.objects.get(code=code, active=True)


def session_make(
    clinic: Clinic,
    *,
    start: datetime | None = None,
    code: str = IV_RACEMIC_0_5_MG_KG_40_MIN,
    chair: str = "Chair 1",
    patient: Any = None,
) -> Session:
    """A booked session (Pat's unless another patient is given), made directly (booking
    rules are the courses app's, tested there)."""
    protocol = shipped_protocol_row(code)
    course = Course.objects.create(
        patient=patient or clinic.pat, protocol=protocol, started_by=clinic.users["ada"]
    )
    start = start or timezone.now() + timedelta(minutes=30)
    return Session.objects.create(
        course=course,
        chair=Chair.objects.get_or_create(name=chair)[0],
        phase="induction",
        start=start,
        chair_until=start + timedelta(hours=2),
        created_by=clinic.users["ben"],
    )


NASAL_DEVICE_MG_PER_ML = Decimal(140)
"""A 28 mg esketamine nasal device holds 0.2 mL: kept in the ledger as 140 mg/mL."""


def ledger_container(
    clinic: Clinic, *, mg_per_ml: Decimal = Decimal(10), fresh: bool = False
) -> Any:
    """A vial of this strength in the ledger's safe, received by Admin Dana: the latest one,
    or a new one when there is none or `fresh` (the latest is used up)."""
    from ketaclinic.ledger.models import Container, RegisteredLocation
    from ketaclinic.ledger.tests.conftest import location_make, receive

    found = Container.objects.filter(mg_per_ml=mg_per_ml).order_by("-pk").first()
    if found is not None and not fresh:
        return found
    location = RegisteredLocation.objects.first() or location_make(clinic)
    (vial,) = receive(clinic, location, volume="50", concentration=str(mg_per_ml))
    return vial


def prescriber_on_site_today(clinic: Clinic) -> None:
    PrescriberPresence.objects.create(
        clinician=clinic.users["ada"],
        date=timezone.localdate(),
        from_time=time(0, 0),
        to_time=time(23, 59, 59, 999999),
        recorded_by=clinic.users["dana"],
    )


@dataclass
class Chart:
    """One session driven through the API; `ben` charts, `ada` checks and overrides."""

    clinic: Clinic
    session: Session
    ben: Client
    ada: Client

    @property
    def url(self) -> str:
        return f"/api/v1/sessions/{self.session.pk}"

    def post(self, path: str, body: dict[str, Any] | None = None, *, who: str = "ben") -> Any:
        client = self.ben if who == "ben" else self.ada if who == "ada" else self.clinic.api(who)
        return client.post(f"{self.url}{path}", body or {}, content_type="application/json")

    def refresh(self) -> Session:
        self.session.refresh_from_db()
        return self.session

    def check_in(self) -> Any:
        return self.post("/check-in")

    def prechecks(self, **overrides: Any) -> Any:
        body: dict[str, Any] = {
            "identity_confirmed": True,
            "consent_current": True,
            "fasting": True,
            "escort_confirmed": True,
            "pregnancy_test": "not_applicable",
            "questionnaires_done": True,
            "weight_kg": 72.5,
            "weight_measured_at": (timezone.now() - timedelta(days=1)).isoformat(),
        }
        return self.post("/pre-checks", body | overrides)

    def vitals(
        self, *, key: str = "", who: str = "ben", at: datetime | None = None, **values: Any
    ) -> Any:
        """POST a set of vitals (normal values unless given), optionally with a key."""
        body: dict[str, Any] = {
            "at": (at or timezone.now()).isoformat(),
            "systolic": 120,
            "diastolic": 80,
            "heart_rate": 72,
            "spo2": 98,
            "resp_rate": 14,
        } | values
        client = self.ben if who == "ben" else self.clinic.api(who)
        headers = {"Idempotency-Key": key} if key else {}
        return client.post(
            f"{self.url}/vitals", body, content_type="application/json", headers=headers
        )

    def dose(self, **overrides: Any) -> Any:
        body = {"weight_kg": 72.5, "concentration_mg_per_ml": 10, "bag_volume_ml": 100}
        return self.post("/dose", body | overrides)

    def second_check(self, username: str = "ada", **overrides: Any) -> Any:
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        device = self.clinic.totp.get(username)
        if device is not None:
            body["totp"] = totp_now(device)
        return self.post("/dose/second-check", body | overrides)

    def draw(self, volume_ml: Decimal | None = None) -> Any:
        """Nurse Ben draws the latest dose (or `volume_ml`) from a vial of its strength, through
        the ledger's API, for this session."""
        dose = DoseCheck.objects.filter(session=self.session).order_by("-calculated_at").first()
        strength = (dose.concentration_mg_per_ml if dose else None) or NASAL_DEVICE_MG_PER_ML
        container = ledger_container(self.clinic, mg_per_ml=strength)
        if volume_ml is None:
            assert dose is not None, "calculate the dose first, or give the volume"
            volume_ml = dose.drug_volume_ml or (dose.dose_mg / strength).quantize(
                Decimal("0.01"), rounding=ROUND_UP
            )
        body = {"session": str(self.session.pk), "volume_ml": format(volume_ml.normalize(), "f")}
        response = self.ben.post(
            f"/api/v1/ledger/containers/{container.pk}/draws", body, content_type="application/json"
        )
        if response.status_code == 409:  # the vial is used up: the next one
            container = ledger_container(self.clinic, mg_per_ml=strength, fresh=True)
            response = self.ben.post(
                f"/api/v1/ledger/containers/{container.pk}/draws",
                body,
                content_type="application/json",
            )
        return response

    def ready(self, *, calculator: str = "ben", witness: str = "ada", draw: bool = True) -> None:
        """Checked in, pre-checks done, baseline vitals, dose calculated and second-checked,
        and (unless `draw` is False) the dose drawn from the ledger.

        A TOTP code is accepted once: when several sessions are readied within one 30-second
        step, let Dr Ada calculate and Nurse Ben (no TOTP device) second-check."""
        body = {"weight_kg": 72.5, "concentration_mg_per_ml": 10, "bag_volume_ml": 100}
        for response in (
            self.check_in(),
            self.prechecks(),
            self.vitals(),
            self.post("/dose", body, who=calculator),
            self.second_check(witness),
        ):
            assert response.status_code in (200, 201), response.content
        if draw:
            response = self.draw()
            assert response.status_code == 201, response.content

    def start(self) -> Any:
        return self.post("/start")

    def infusing(self, *, calculator: str = "ben", witness: str = "ada") -> None:
        self.ready(calculator=calculator, witness=witness)
        response = self.start()
        assert response.status_code == 200, response.content

    def stop(self, volume: float = 3.63) -> Any:
        return self.post("/stop", {"administered_volume_ml": volume})

    def in_recovery(self, *, stopped_minutes_ago: int = 0) -> None:
        from ketaclinic.infusions.models import ChartEntry, ChartEntryKind

        self.infusing()
        response = self.stop()
        assert response.status_code == 200, response.content
        if stopped_minutes_ago:
            ChartEntry.objects.filter(
                session=self.session, kind=ChartEntryKind.INFUSION_STOP
            ).update(at=timezone.now() - timedelta(minutes=stopped_minutes_ago))

    def discharge(self, *, aldrete: int = 10, who: str = "ben", **overrides: Any) -> Any:
        body: dict[str, Any] = {
            "aldrete": aldrete,
            "escort_present": True,
            "instructions_given": True,
        } | overrides
        return self.post("/discharge", body, who=who)

    def discharged(self) -> None:
        self.in_recovery(stopped_minutes_ago=61)
        response = self.discharge()
        assert response.status_code == 200, response.content

    def signed(self) -> None:
        self.discharged()
        for who in ("ben", "ada"):
            response = self.post("/sign", who=who)
            assert response.status_code == 200, response.content
        assert self.refresh().status == "signed"


def consent_signed(clinic: Clinic) -> None:
    """Pat has signed every required consent document in its current version (witnessed by
    Dr Ada): the chart's pre-checks read "consent current" from the consent app."""
    from ketaclinic.consent.services import consent_missing, consent_record_witnessed

    for document in consent_missing(clinic.pat):
        consent_record_witnessed(
            acting_user=clinic.users["ada"],
            patient=clinic.pat,
            document_id=document.pk,
            signed_name="Pat Example",
        )


def chart_for(clinic: Clinic, **kwargs: Any) -> Chart:
    session = session_make(clinic, **kwargs)
    consent_signed(clinic)
    if not PrescriberPresence.objects.filter(date=timezone.localdate()).exists():
        prescriber_on_site_today(clinic)
    return Chart(clinic=clinic, session=session, ben=clinic.api("ben"), ada=clinic.api("ada"))
