"""Courses and sessions of the demo clinic: evaluations and decisions, consents, courses at
different infusion numbers with their earlier infusions and months of GAD-7/PHQ-9 scores, and
today's sessions in every state across the chairs (one infusing with an alert, one in
recovery, one held for a clinician, one waiting for its second check, one discharged and not
yet signed, one signed, two booked later), the ketamine that was received, drawn and counted.

Everything is written by the apps' services, step by step, in time order: each step is put on
one timeline (``Step``) and run at its moment on the demo clock (``clock.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketaclinic.consent.services import consent_missing, consent_record_witnessed
from ketaclinic.courses.models import Chair, Course, PrescriberPresence, Protocol
from ketaclinic.courses.services import chair_create, course_start, presence_record, session_book
from ketaclinic.eligibility.services import decision_record, evaluation_create
from ketaclinic.infusions import services as chart
from ketaclinic.infusions.models import DoseCheck, Session
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.ledger.models import Container, RegisteredLocation
from ketaclinic.ledger.services import (
    CountLine,
    ledger_count,
    ledger_draw,
    ledger_receive,
    location_register,
)
from ketaclinic.patients.models import Patient
from ketaclinic.scales.services import administration_record
from ketaclinic.web.demo.clock import DemoClock
from ketaclinic.web.demo.people import DEMO_PASSWORD, Staff

CHAIRS = ("Chair 1", "Chair 2", "Chair 3", "Chair 4", "Chair 5", "Chair 6")
WEIGHT_KG = Decimal("72.5")
CONCENTRATION = Decimal(10)
VIAL_ML = Decimal(10)
CLINIC_DEA = "AB1234563"  # synthetic, with a valid check digit
SUPPLIER_DEA = "RM7654329"  # synthetic, with a valid check digit

# Meets every requirement of the shipped eligibility rules (synthetic).
ELIGIBLE: dict[str, Any] = {
    "diagnoses": ["F41.1"],
    "baseline_scores": {"gad7": 16, "hama": 26},
    "prior_treatments": [
        {
            "kind": "medication",
            "name": "sertraline",
            "drug_class": "SSRI",
            "daily_dose_mg": 150,
            "weeks": 10,
            "response": "partial",
            "side_effects": "nausea",
        },
        {"kind": "psychotherapy", "name": "CBT", "sessions": 12},
    ],
    "medical_history": "Synthetic demo history.",
    "medications": [{"name": "sertraline", "drug_class": "SSRI"}],
    "allergies": ["penicillin"],
    "vitals": {
        "systolic": 122,
        "diastolic": 78,
        "heart_rate": 70,
        "spo2": 98,
        "weight_kg": 72.5,
        "height_cm": 172,
    },
    "contraindications": [],
    "notes": "Synthetic demo evaluation.",
}


@dataclass(frozen=True)
class Story:
    """One patient's course: how many infusions before today, every other day back from
    ``last_past`` days ago, and the state today's session is left in."""

    past: int
    last_past: int
    today: str
    chair: str
    start_minutes: int
    """Today's start, in minutes from now (negative: earlier today)."""


STORIES = (
    Story(past=5, last_past=3, today="infusing_alert", chair="Chair 1", start_minutes=-25),
    Story(past=3, last_past=3, today="recovery", chair="Chair 2", start_minutes=-105),
    Story(past=0, last_past=0, today="checked_in_hold", chair="Chair 3", start_minutes=-10),
    Story(past=2, last_past=3, today="second_check", chair="Chair 4", start_minutes=-5),
    Story(past=1, last_past=3, today="signed", chair="Chair 5", start_minutes=-330),
    Story(past=4, last_past=3, today="discharged", chair="Chair 6", start_minutes=-250),
    Story(past=2, last_past=3, today="booked", chair="Chair 2", start_minutes=75),
    Story(past=0, last_past=0, today="booked", chair="Chair 5", start_minutes=150),
)
STORY_FIRST_PATIENT = 2
"""Patients 0 and 1 are the patient logins' records; the stories begin with the third."""


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: Callable[[], object] = field(compare=False)


@dataclass
class Stock:
    location: RegisteredLocation
    vials: list[Container] = field(default_factory=list)
    left: dict[int, Decimal] = field(default_factory=dict)

    def take(self, ml: Decimal) -> Container:
        for vial in self.vials:
            if self.left[vial.pk] >= ml:
                self.left[vial.pk] -= ml
                return vial
        raise RuntimeError("the demo ran out of ketamine: receive more vials")


class DemoDay:
    def __init__(self, *, staff: Staff, patients: list[Patient], clock: DemoClock) -> None:
        self.staff = staff
        self.patients = patients
        self.clock = clock
        self.now = clock.now()
        self.steps: list[Step] = []
        self.protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
        self.stock: Stock | None = None

    # --- the timeline -------------------------------------------------------------------------
    def at(self, moment: datetime, run: Callable[[], object]) -> None:
        self.steps.append(Step(moment, len(self.steps), run))

    def run(self) -> None:
        for step in sorted(self.steps):
            self.clock.set(step.at)
            step.run()
        self.steps = []

    # --- the build ------------------------------------------------------------------------------
    def build(self) -> None:
        today = timezone.localdate(self.now)
        start = self.now - timedelta(days=130)
        self.clock.set(start)
        self._chairs()
        self._ledger(received_at=start + timedelta(days=100))
        story_patients = self.patients[STORY_FIRST_PATIENT : STORY_FIRST_PATIENT + len(STORIES)]
        extra = self.patients[STORY_FIRST_PATIENT + len(STORIES) :]
        for index, (story, patient) in enumerate(zip(STORIES, story_patients, strict=True)):
            self._scores_history(patient, index, first=start + timedelta(days=index))
            self._pathway(
                patient, story, index, cleared_at=self.now - timedelta(days=25, hours=index)
            )
        self._others(extra, at=self.now - timedelta(days=20))
        days_used = {
            today,
            timezone.localdate(self.now - timedelta(hours=6)),
            timezone.localdate(self.now + timedelta(hours=4)),
        }
        for index, (story, patient) in enumerate(zip(STORIES, story_patients, strict=True)):
            for n in range(story.past):
                day = today - timedelta(days=story.last_past + 2 * (story.past - 1 - n))
                days_used.add(day)
                slot = self._slot(day, index)
                self._session(patient, story, slot, state="signed", chair=CHAIRS[index % 6])
            start_today = self.now + timedelta(minutes=story.start_minutes)
            # Near midnight "today's" sessions may begin on the day before or after.
            days_used.add(timezone.localdate(start_today))
            self._session(patient, story, start_today, state=story.today, chair=story.chair)
        for day in sorted(days_used):
            # Marked on site before anything is booked that day (bookings are made 26 hours
            # ahead, and session_book refuses a day with no prescriber on site).
            self.at(self._local(day - timedelta(days=3), time(18, 0)), self._presence(day))
        self.at(self.now - timedelta(minutes=30), self._count)
        self.run()

    def _hours(self, day: date) -> tuple[time, time]:
        """The prescriber's hours on a day: 07:00-20:00, widened on the days that today's
        sessions touch (placed from 6 hours before the moment the demo is built to 4 hours
        after it) so that they fall inside, even when the demo is built near midnight and
        "today's" sessions begin the day before or end the day after."""
        opens, closes = time(7, 0), time(20, 0)
        earliest = timezone.localtime(self.now - timedelta(hours=6))
        latest = timezone.localtime(self.now + timedelta(hours=4))
        if not earliest.date() <= day <= latest.date():
            return opens, closes
        if earliest.date() < day:
            opens = time(0, 0)
        else:
            opens = min(opens, earliest.time().replace(minute=0, second=0, microsecond=0))
        on_the_hour = (latest + timedelta(minutes=59)).replace(minute=0)
        late = latest.date() > day or on_the_hour.date() > day
        closes = time(23, 59) if late else max(closes, on_the_hour.time())
        return opens, closes.replace(second=0, microsecond=0)

    def _local(self, day: date, at: time) -> datetime:
        return timezone.make_aware(datetime.combine(day, at))

    def _slot(self, day: date, index: int) -> datetime:
        """Earlier infusions: one story after the other through the day, three hours apart."""
        return self._local(day, time(7, 30)) + timedelta(hours=3 * (index % 4))

    # --- setup ----------------------------------------------------------------------------------
    def _chairs(self) -> None:
        for name in CHAIRS:
            if not Chair.objects.filter(name=name).exists():
                chair_create(acting_user=self.staff.dana, name=name, room="Infusion room")

    def _ledger(self, *, received_at: datetime) -> None:
        location = RegisteredLocation.objects.first()
        if location is None:
            location = location_register(
                acting_user=self.staff.dana,
                name="Main clinic",
                registrant_name="Dr Ada Okafor",
                address="1 Example Street, Testville",
                dea_number=CLINIC_DEA,
                dea_expiry=timezone.localdate(self.now) + timedelta(days=45),
            )
        self.stock = Stock(location)
        self.at(received_at, lambda: self._receive("LOT-DEMO-1", 8))
        self.at(self.now - timedelta(days=6), lambda: self._receive("LOT-DEMO-2", 8))

    def _receive(self, lot: str, vials: int) -> None:
        assert self.stock is not None
        _, containers = ledger_receive(
            acting_user=self.staff.dana,
            location=self.stock.location,
            product_name="Ketamine HCl injection",
            ndc="0409-2051-05",
            form="injection, solution",
            concentration_mg_per_ml=CONCENTRATION,
            container_volume_ml=VIAL_ML,
            lot=lot,
            expiry=timezone.localdate() + timedelta(days=400),
            containers=vials,
            supplier_name="Synthetic Pharma Supply",
            supplier_address="9 Warehouse Road, Testville",
            supplier_dea_number=SUPPLIER_DEA,
            reference=f"INV-{lot}",
            received_at=timezone.now().replace(second=0, microsecond=0),
        )
        self.stock.vials.extend(containers)
        self.stock.left.update({c.pk: VIAL_ML for c in containers})

    def _count(self) -> None:
        assert self.stock is not None
        lines = [CountLine(container=v, counted_ml=self.stock.left[v.pk]) for v in self.stock.vials]
        ledger_count(
            acting_user=self.staff.dana,
            location=self.stock.location,
            kind="daily",
            lines=[line for line in lines if line.counted_ml > 0] or lines[:1],
        )

    def _presence(self, day: date) -> Callable[[], None]:
        def record() -> None:
            if not PrescriberPresence.objects.filter(date=day).exists():
                presence_record(
                    acting_user=self.staff.dana,
                    clinician=self.staff.ada,
                    day=day,
                    from_time=self._hours(day)[0],
                    to_time=self._hours(day)[1],
                )

        return record

    # --- patients -------------------------------------------------------------------------------
    def _scores_history(self, patient: Patient, index: int, *, first: datetime) -> None:
        """Monthly GAD-7 and PHQ-9 for four months before the course (high, slowly easing)."""
        for month in range(4):
            level = max(1, 3 - (month + index) // 3)
            gad7 = {str(i): level if i % 2 else max(0, level - 1) for i in range(1, 8)}
            phq9 = {str(i): (max(0, level - 1) if i != 9 else 0) for i in range(1, 10)}
            at = first + timedelta(days=30 * month)
            self.at(at, self._scores(patient, gad7, phq9))

    def _scores(
        self, patient: Patient, gad7: dict[str, int], phq9: dict[str, int]
    ) -> Callable[[], None]:
        def record() -> None:
            for code, answers in (("gad7", gad7), ("phq9", phq9)):
                administration_record(
                    acting_user=self.staff.ben,
                    patient=patient,
                    instrument_code=code,
                    answers=answers,
                    administered_at=timezone.now(),
                )

        return record

    def _pathway(self, patient: Patient, story: Story, index: int, *, cleared_at: datetime) -> None:
        def clear() -> None:
            evaluation = evaluation_create(
                acting_user=self.staff.ada, patient=patient, data=ELIGIBLE
            )
            decision_record(acting_user=self.staff.ada, evaluation=evaluation, decision="eligible")
            for document in consent_missing(patient):
                consent_record_witnessed(
                    acting_user=self.staff.ben,
                    patient=patient,
                    document_id=document.pk,
                    signed_name=f"{patient.given_name} {patient.family_name}",
                )
            course_start(acting_user=self.staff.ada, patient=patient, protocol_id=self.protocol.pk)

        self.at(cleared_at, clear)

    def _others(self, patients: list[Patient], *, at: datetime) -> None:
        """An evaluation waiting for its decision, a patient found not eligible, and a patient
        whose PHQ-9 item 9 opened an urgent safety flag."""
        if len(patients) < 3:
            return
        waiting, not_eligible, flagged = patients[:3]

        def run() -> None:
            evaluation_create(acting_user=self.staff.ada, patient=waiting, data=ELIGIBLE)
            pregnant = ELIGIBLE | {"contraindications": ["pregnancy"]}
            evaluation = evaluation_create(
                acting_user=self.staff.ada, patient=not_eligible, data=pregnant
            )
            decision_record(
                acting_user=self.staff.ada, evaluation=evaluation, decision="not_eligible"
            )
            administration_record(
                acting_user=self.staff.cleo,
                patient=flagged,
                instrument_code="phq9",
                answers={"1": 2, "2": 3, "3": 2, "4": 2, "5": 1, "6": 2, "7": 1, "8": 1, "9": 2},
                administered_at=timezone.now(),
            )

        self.at(at, run)

    # --- one session ----------------------------------------------------------------------------
    def _session(
        self, patient: Patient, story: Story, start: datetime, *, state: str, chair: str
    ) -> None:
        start = start.replace(second=0, microsecond=0)
        holder: dict[str, Session] = {}
        ben, eve, ada = self.staff.ben, self.staff.eve, self.staff.ada

        def book() -> None:
            course = Course.objects.get(patient=patient, status="active")
            holder["s"] = session_book(
                acting_user=self.staff.cleo, course=course, chair_name=chair, start=start
            )

        def s() -> Session:
            holder["s"].refresh_from_db()
            return holder["s"]

        def vitals(
            systolic: int = 124, diastolic: int = 78, moaas: int | None = None
        ) -> Callable[[], None]:
            def record() -> None:
                values = chart.VitalsIn(
                    at=timezone.now(),
                    systolic_mmhg=systolic,
                    diastolic_mmhg=diastolic,
                    heart_rate_bpm=74,
                    spo2_percent=98,
                    respiratory_rate=14,
                    moaas=moaas,
                )
                chart.vitals_record(acting_user=ben, session=s(), vitals=values)

            return record

        def prechecks() -> None:
            checks = chart.PreChecks(
                identity_confirmed=True,
                consent_current=True,
                fasting=True,
                escort_confirmed=True,
                pregnancy_test="not_applicable",
                questionnaires_done=True,
                weight_kg=WEIGHT_KG,
                weight_measured_at=timezone.now(),
            )
            chart.prechecks_record(acting_user=ben, session=s(), checks=checks)

        def dose() -> None:
            chart.dose_calculate_record(
                acting_user=ada,
                session=s(),
                weight_kg=WEIGHT_KG,
                concentration_mg_per_ml=CONCENTRATION,
                bag_volume_ml=Decimal(100),
            )

        def second_check() -> None:
            chart.dose_second_check(
                acting_user=ben, session=s(), username=eve.username, password=DEMO_PASSWORD
            )

        def volume() -> Decimal:
            check = DoseCheck.objects.filter(session=s()).order_by("-calculated_at").first()
            assert check is not None and check.drug_volume_ml is not None
            return check.drug_volume_ml.quantize(Decimal("0.01"))

        def draw() -> None:
            assert self.stock is not None
            ml = volume()
            ledger_draw(acting_user=ben, container=self.stock.take(ml), session=s(), ml=ml)

        steps: list[tuple[int, Callable[[], object]]] = [
            (-26 * 60, book),
            (-12, lambda: chart.session_check_in(acting_user=ben, session=s())),
            (-11, prechecks),
            (-10, self._scores(patient, *_pre_infusion_scores(story))),
        ]
        if state == "booked":
            steps = steps[:1]
        elif state == "checked_in_hold":
            steps += [(-6, vitals(systolic=152, diastolic=94)), (-5, dose)]
        elif state == "second_check":
            steps += [(-4, vitals()), (-3, dose)]
        else:
            steps += [(-8, vitals()), (-7, dose), (-6, second_check), (-5, draw)]
            steps += [(0, lambda: chart.infusion_start(acting_user=ben, session=s()))]
            if state == "infusing_alert":
                steps += [(5, vitals(moaas=4)), (10, vitals(systolic=184, diastolic=102, moaas=4))]
                steps += [(15, vitals(systolic=176, diastolic=96, moaas=4)), (20, vitals(moaas=4))]
            else:
                steps += [(15, vitals(moaas=4)), (30, vitals(moaas=4))]
                steps += [
                    (
                        40,
                        lambda: chart.infusion_stop(
                            acting_user=ben, session=s(), administered_volume_ml=volume()
                        ),
                    )
                ]
                steps += [(55, vitals(moaas=5)), (70, vitals(moaas=5)), (85, vitals(moaas=5))]
                steps += [(100, vitals(moaas=5))]
                if state != "recovery":
                    steps += [
                        (
                            101,
                            lambda: chart.session_discharge(
                                acting_user=ben,
                                session=s(),
                                aldrete=10,
                                escort_present=True,
                                instructions_given=True,
                            ),
                        )
                    ]
                    if state == "signed":
                        steps += [(105, lambda: chart.session_sign(acting_user=ben, session=s()))]
                        steps += [(110, lambda: chart.session_sign(acting_user=ada, session=s()))]
        for minutes, run in steps:
            self.at(start + timedelta(minutes=minutes), run)


def _pre_infusion_scores(story: Story) -> tuple[dict[str, int], dict[str, int]]:
    """Before each infusion: lower scores the further into the course (synthetic response)."""
    level = 2 if story.past < 2 else 1
    gad7 = {str(i): level for i in range(1, 8)}
    phq9 = {str(i): (level if i < 9 else 0) for i in range(1, 10)}
    return gad7, phq9
