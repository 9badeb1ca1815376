"""The session chart through its API: state machine, check-in window, pre-checks and the BP
hold, the dose and its second check, the infusion, side effects and discharge gates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses.models import PrescriberPresence
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, DoseCheck, Session
from ketaclinic.infusions.tests.chart_driver import Chart, session_make
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def reasons(response: object) -> str:
    return " ".join(response.json()["reasons"])  # type: ignore[attr-defined]


# -- state machine ------------------------------------------------------------------------------


def test_session_moves_through_every_state_in_order(chart: Chart) -> None:
    assert chart.session.status == "scheduled"
    chart.ready()
    assert chart.refresh().status == "checked_in"
    assert chart.start().status_code == 200
    assert chart.refresh().status == "infusing"
    assert chart.stop().status_code == 200
    assert chart.refresh().status == "recovery"
    ChartEntry.objects.filter(session=chart.session, kind=ChartEntryKind.INFUSION_STOP).update(
        at=timezone.now() - timedelta(minutes=61)
    )
    assert chart.discharge().status_code == 200
    assert chart.refresh().status == "discharged"
    assert chart.post("/sign").status_code == 200
    assert chart.refresh().status == "discharged"  # the nurse has signed; the clinician next
    assert chart.post("/sign", who="ada").status_code == 200
    assert chart.refresh().status == "signed"
    kinds = list(
        ChartEntry.objects.filter(session=chart.session)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "check_in",
        "prechecks",
        "infusion_start",
        "infusion_stop",
        "discharge",
    ]
    assert all(e.recorded_by_id and e.at for e in ChartEntry.objects.filter(session=chart.session))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/start", {}),
        ("/stop", {"administered_volume_ml": 1}),
        ("/discharge", {"aldrete": 10, "escort_present": True, "instructions_given": True}),
        ("/sign", {}),
        ("/infusion", {"action": "pause", "reason": "x"}),
        ("/addenda", {"text": "x"}),
    ],
)
def test_steps_out_of_order_are_refused(chart: Chart, path: str, body: dict[str, object]) -> None:
    response = chart.post(path, body)
    assert response.status_code == 409
    assert chart.refresh().status == "scheduled"


def test_vitals_are_refused_before_check_in_and_after_discharge(chart: Chart) -> None:
    assert chart.vitals().status_code == 409
    chart.discharged()
    assert chart.vitals().status_code == 409


def test_dose_is_refused_after_the_start(chart: Chart) -> None:
    chart.infusing()
    assert chart.dose().status_code == 409


def test_a_patient_and_intake_cannot_chart(chart: Chart) -> None:
    for who in ("pat", "cleo", "dana"):
        assert chart.post("/check-in", who=who).status_code == 403
    assert chart.refresh().status == "scheduled"


def test_an_unknown_or_malformed_session_is_a_404(chart: Chart) -> None:
    client = chart.ben
    assert client.post("/api/v1/sessions/not-a-uuid/check-in").status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert client.post(f"/api/v1/sessions/{unknown}/check-in").status_code == 404


# -- check-in window ----------------------------------------------------------------------------


def test_check_in_opens_two_hours_before_the_start(clinic: Clinic) -> None:
    early = session_make(clinic, start=timezone.now() + timedelta(hours=2, minutes=5))
    response = clinic.api("ben").post(f"/api/v1/sessions/{early.pk}/check-in")
    assert response.status_code == 409
    assert "2 hours before" in reasons(response)
    Session.objects.filter(pk=early.pk).update(
        start=timezone.now() + timedelta(hours=1, minutes=59)
    )
    response = clinic.api("ben").post(f"/api/v1/sessions/{early.pk}/check-in")
    assert response.status_code == 200
    assert response.json() == {"id": str(early.pk), "status": "checked_in"}


def test_a_clinician_may_check_in_at_any_time(clinic: Clinic) -> None:
    early = session_make(clinic, start=timezone.now() + timedelta(days=2))
    response = clinic.api("ada").post(f"/api/v1/sessions/{early.pk}/check-in")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(object_type="Session", object_id=str(early.pk)).exists()


def test_check_in_twice_is_refused(chart: Chart) -> None:
    assert chart.check_in().status_code == 200
    assert chart.check_in().status_code == 409


# -- pre-checks and the BP hold -----------------------------------------------------------------


def test_prechecks_report_every_missing_item(chart: Chart) -> None:
    chart.check_in()
    response = chart.prechecks(fasting=False, pregnancy_test="positive")
    assert response.status_code == 201
    assert response.json() == {
        "complete": False,
        "problems": ["Pre-check: fasting not confirmed.", "Pre-check: pregnancy test positive."],
    }
    assert chart.prechecks().json() == {"complete": True, "problems": []}


def test_start_needs_every_pre_check(chart: Chart) -> None:
    chart.ready()
    chart.prechecks(escort_confirmed=False)
    response = chart.start()
    assert response.status_code == 409
    assert "escort not confirmed" in reasons(response)


def test_a_weight_older_than_the_protocol_allows_refuses_the_start(chart: Chart) -> None:
    chart.ready()
    chart.prechecks(weight_measured_at=(timezone.now() - timedelta(days=31)).isoformat())
    response = chart.start()
    assert response.status_code == 409
    assert "weight must be measured within 30 days" in reasons(response)


def test_start_needs_baseline_vitals(chart: Chart) -> None:
    chart.check_in()
    chart.prechecks()
    chart.dose()
    chart.second_check()
    response = chart.start()
    assert response.status_code == 409
    assert "No baseline vital signs" in reasons(response)


@pytest.mark.parametrize(("systolic", "diastolic"), [(140, 80), (120, 90), (150, 95)])
def test_predose_bp_at_or_above_140_90_holds_until_a_clinician_reviews(
    chart: Chart, systolic: int, diastolic: int
) -> None:
    chart.ready()
    response = chart.vitals(systolic=systolic, diastolic=diastolic)
    assert response.status_code == 201
    assert response.json()["hold"] is True
    refused = chart.start()
    assert refused.status_code == 409
    assert "clinician must review" in reasons(refused)
    assert chart.post("/clinician-review", {"reason": "Reviewed"}).status_code == 403
    review = chart.post("/clinician-review", {"reason": "BP reviewed, fine"}, who="ada")
    assert review.status_code == 201
    assert chart.start().status_code == 200


def test_predose_bp_just_below_140_90_does_not_hold(chart: Chart) -> None:
    chart.ready()
    response = chart.vitals(systolic=139, diastolic=89)
    assert response.json() == response.json() | {"hold": False, "alerts": []}
    assert chart.start().status_code == 200


def test_start_without_a_prescriber_on_site_is_refused(chart: Chart) -> None:
    chart.ready()
    PrescriberPresence.objects.all().delete()
    response = chart.start()
    assert response.status_code == 409
    assert "No prescriber is on site." in reasons(response)


def test_start_waits_for_the_pre_dose_questionnaires_the_schedules_ask_for(
    chart: Chart, clinic: Clinic
) -> None:
    """The scales' before-infusion schedules decide which questionnaires are due: the
    nurse's "questionnaires done" tick does not stand in for an unanswered GAD-7."""
    from ketaclinic.scales.schedules import schedule_create
    from ketaclinic.scales.services import administration_record

    pat, ben = chart.session.course.patient, clinic.users["ben"]
    for code in ("gad7", "phq9"):
        schedule_create(
            acting_user=ben,
            patient=pat,
            instrument_code=code,
            rule_kind="before_infusion",
            starts_on=timezone.localdate() - timedelta(days=30),
        )
    chart.ready()  # the pre-checks tick "questionnaires done"
    prechecks = chart.prechecks()
    assert prechecks.status_code == 201
    expected = "Pre-dose questionnaires due before this infusion are not answered: GAD-7, PHQ-9."
    assert prechecks.json() == {"complete": False, "problems": [expected]}
    response = chart.start()
    assert response.status_code == 409
    assert expected in reasons(response)

    # An answer from before the window (more than 3 days ago) does not count.
    administration_record(
        acting_user=ben,
        patient=pat,
        instrument_code="phq9",
        answers={str(n): 0 for n in range(1, 10)},
        administered_at=timezone.now() - timedelta(days=5),
    )
    administration_record(
        acting_user=ben,
        patient=pat,
        instrument_code="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        administered_at=timezone.now() - timedelta(minutes=20),
    )
    response = chart.start()
    assert response.status_code == 409
    assert "not answered: PHQ-9." in reasons(response)

    administration_record(
        acting_user=ben,
        patient=pat,
        instrument_code="phq9",
        answers={str(n): 0 for n in range(1, 10)},
        administered_at=timezone.now() - timedelta(minutes=10),
    )
    assert chart.start().status_code == 200


# -- dose and second check ----------------------------------------------------------------------


def test_dose_numbers_for_72_5_kg_at_10_mg_per_ml_in_a_100_ml_bag(chart: Chart) -> None:
    response = chart.dose()
    assert response.status_code == 201
    body = response.json()
    assert (body["dose_mg"], body["drug_volume_ml"], body["rate_ml_per_h"]) == (
        "36.3",
        "3.63",
        "155.4",
    )
    assert body["infusion_minutes"] == 40
    assert body["above_maximum"] is False
    dose = DoseCheck.objects.get(pk=body["id"])
    assert dose.dose_mg == Decimal("36.3")
    assert dose.calculated_by == chart.clinic.users["ben"]


def test_dose_without_a_bag_has_no_rate(chart: Chart) -> None:
    body = chart.post("/dose", {"weight_kg": 72.5, "concentration_mg_per_ml": 10}).json()
    assert (body["dose_mg"], body["drug_volume_ml"], body["rate_ml_per_h"]) == (
        "36.3",
        "3.63",
        None,
    )


def test_dose_above_the_maximum_is_refused_without_a_clinician_override(chart: Chart) -> None:
    response = chart.dose(weight_kg=120)
    assert response.status_code == 409
    assert "above the protocol maximum of 50 mg" in reasons(response)
    nurse_override = chart.dose(weight_kg=120, override_reason="Heavy patient")
    assert nurse_override.status_code == 403
    assert not DoseCheck.objects.exists()
    response = chart.post(
        "/dose",
        {"weight_kg": 120, "concentration_mg_per_ml": 10, "override_reason": "Ordered 60 mg"},
        who="ada",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["dose_mg"], body["above_maximum"]) == ("60.0", True)
    assert DoseCheck.objects.get().override_reason == "Ordered 60 mg"


@pytest.mark.parametrize(
    "body",
    [
        {"weight_kg": "72.5", "concentration_mg_per_ml": 10},
        {"weight_kg": 0, "concentration_mg_per_ml": 10},
        {"weight_kg": 72.5},
        {"weight_kg": 500, "concentration_mg_per_ml": 10},
        {"weight_kg": 72.5, "concentration_mg_per_ml": 10, "extra": 1},
    ],
)
def test_bad_dose_input_answers_422(chart: Chart, body: dict[str, object]) -> None:
    response = chart.post("/dose", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"]
    assert not DoseCheck.objects.exists()


def test_second_check_by_another_user_with_their_own_credentials(chart: Chart) -> None:
    chart.check_in()
    chart.dose()
    response = chart.second_check("ada")
    assert response.status_code == 200
    assert response.json()["second_checked_by"] == "ada"
    dose = DoseCheck.objects.get()
    assert dose.second_checked_by == chart.clinic.users["ada"]


def test_second_check_by_the_calculator_is_refused(chart: Chart) -> None:
    chart.dose()
    response = chart.second_check("ben")
    assert response.status_code == 409
    assert "someone other than the calculator" in reasons(response)
    assert DoseCheck.objects.get().second_checked_by is None


def test_second_check_with_a_wrong_password_or_totp_is_refused(chart: Chart) -> None:
    chart.dose()
    assert chart.second_check("ada", password="wrong-password-123").status_code == 422
    response = chart.second_check("ada", totp="000000")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "totp"
    assert chart.second_check("ada", totp="").status_code == 422
    assert DoseCheck.objects.get().second_checked_by is None


def test_second_check_by_intake_is_refused(chart: Chart) -> None:
    chart.dose()
    assert chart.second_check("cleo").status_code == 409


def test_start_needs_the_second_check_and_a_new_dose_needs_a_new_one(chart: Chart) -> None:
    chart.ready()
    chart.dose(weight_kg=70)
    response = chart.start()
    assert response.status_code == 409
    assert "not been second-checked" in reasons(response)


# -- the infusion -------------------------------------------------------------------------------


def test_rate_changes_and_pauses_need_reasons(chart: Chart) -> None:
    chart.infusing()
    assert chart.post("/infusion", {"action": "pause", "reason": ""}).status_code == 422
    assert chart.post("/infusion", {"action": "pause", "reason": "BP 182"}).status_code == 201
    assert chart.post("/infusion", {"action": "pause", "reason": "again"}).status_code == 409
    assert chart.post("/infusion", {"action": "resume", "reason": "BP 150"}).status_code == 201
    response = chart.post(
        "/infusion", {"action": "rate_change", "reason": "slower", "rate_ml_per_h": 120}
    )
    assert response.status_code == 201
    assert chart.post("/infusion", {"action": "rate_change", "reason": "x"}).status_code == 422
    kinds = list(
        ChartEntry.objects.filter(session=chart.session)
        .filter(kind__in=["pause", "resume", "rate_change"])
        .values_list("kind", "reason")
    )
    assert kinds == [("pause", "BP 182"), ("resume", "BP 150"), ("rate_change", "slower")]


def test_stop_records_the_administered_volume_and_mg(chart: Chart) -> None:
    chart.infusing()
    assert chart.stop(volume=5).status_code == 422  # more than the 3.63 mL drawn up
    response = chart.stop(volume=3.5)
    assert response.status_code == 200
    session = chart.refresh()
    assert session.administered_volume_ml == Decimal("3.5")
    assert session.administered_mg == Decimal("35")
    assert response.json()["administered_mg"] == "35.0000" or Decimal(
        response.json()["administered_mg"]
    ) == Decimal("35")


def test_side_effects_and_interventions_are_charted(chart: Chart) -> None:
    chart.infusing()
    response = chart.post(
        "/side-effects",
        {
            "at": timezone.now().isoformat(),
            "effect": "nausea",
            "severity": "moderate",
            "intervention": "antiemetic",
            "drug": "ondansetron",
            "drug_dose": "4 mg IV",
        },
    )
    assert response.status_code == 201
    entry = ChartEntry.objects.get(kind="side_effect")
    assert '"drug":"ondansetron"' in entry.data_json
    assert '"drug_dose":"4 mg IV"' in entry.data_json
    missing_dose = chart.post(
        "/side-effects",
        {"at": timezone.now().isoformat(), "effect": "vomiting", "severity": "mild", "drug": "x"},
    )
    assert missing_dose.status_code == 422
    unknown = chart.post(
        "/side-effects",
        {"at": timezone.now().isoformat(), "effect": "hiccups", "severity": "mild"},
    )
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    ("instrument", "score", "status"),
    [
        ("cadss", 0, 201),
        ("cadss", 92, 201),
        ("cadss", 93, 422),
        ("dissociation_0_4", 4, 201),
        ("dissociation_0_4", 5, 422),
        ("moaas", 5, 201),
        ("moaas", -1, 422),
    ],
)
def test_dissociation_and_sedation_assessments(
    chart: Chart, instrument: str, score: int, status: int
) -> None:
    chart.infusing()
    body = {"at": timezone.now().isoformat(), "instrument": instrument, "score": score}
    assert chart.post("/assessments", body).status_code == status


# -- discharge ----------------------------------------------------------------------------------


def test_discharge_before_the_minimum_observation_time_is_refused(chart: Chart) -> None:
    chart.in_recovery(stopped_minutes_ago=30)
    response = chart.discharge()
    assert response.status_code == 409
    assert "requires at least 60 min" in reasons(response)
    assert chart.refresh().status == "recovery"


def test_discharge_with_aldrete_8_is_refused_and_9_is_allowed(chart: Chart) -> None:
    chart.in_recovery(stopped_minutes_ago=61)
    response = chart.discharge(aldrete=8)
    assert response.status_code == 409
    assert "modified Aldrete 8" in reasons(response)
    assert chart.discharge(aldrete=9).status_code == 200


def test_discharge_without_escort_or_instructions_is_refused(chart: Chart) -> None:
    chart.in_recovery(stopped_minutes_ago=61)
    assert chart.discharge(escort_present=False).status_code == 409
    assert chart.discharge(instructions_given=False).status_code == 409
    assert chart.refresh().status == "recovery"


def test_a_clinician_overrides_the_discharge_gates_with_a_reason(chart: Chart) -> None:
    chart.in_recovery(stopped_minutes_ago=10)
    nurse = chart.discharge(aldrete=8, override_reason="Looks well")
    assert nurse.status_code == 403
    response = chart.discharge(aldrete=8, who="ada", override_reason="Reviewed: fit to leave")
    assert response.status_code == 200
    entry = ChartEntry.objects.get(kind="discharge")
    assert entry.reason == "Reviewed: fit to leave"
    assert '"overridden":true' in entry.data_json
    assert '"unmet":["observation_too_short","aldrete_below_gate"]' in entry.data_json


def test_aldrete_outside_0_10_is_422(chart: Chart) -> None:
    chart.in_recovery(stopped_minutes_ago=61)
    assert chart.discharge(aldrete=11).status_code == 422
