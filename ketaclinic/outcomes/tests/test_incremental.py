"""The outcome rows are kept current incrementally: every write to a source row marks its patient,
and the page recomputes the marked patients' courses before it reads. A stale figure shown as
current is a safety defect, so each kind of change is shown to reach the page's figures: a new
score, a signed session, a new threshold version, a deleted score and a cancelled session, and
writes that bypass the ORM's save (queryset update, raw SQL). After any run of changes the rows
equal a full rebuild's. On SQLite and PostgreSQL alike (the triggers are per vendor)."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from typing import Any

import pytest
from django.db import connection

from ketaclinic.courses.models import Chair
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.outcomes.models import CourseOutcome, DirtyPatient, OutcomeRefresh, RefreshScope
from ketaclinic.outcomes.rules.definitions import (
    OutcomeDefinitions,
    definitions_from_dict,
    shipped_definitions,
)
from ketaclinic.outcomes.selectors import Filters, clinic_outcomes
from ketaclinic.outcomes.services import outcomes_current, outcomes_refresh
from ketaclinic.outcomes.services.upkeep import PREFIX, install_triggers, triggers_installed
from ketaclinic.outcomes.tests.cohort import INFUSION_DAYS, START, Spec, build_cohort
from ketaclinic.outcomes.tests.test_figures import SPECS
from ketaclinic.scales.models import Administration, AdministrationMode
from ketaclinic.testing import Clinic

NEVER = 1  # SPECS[1]: GAD-7 15 -> 12 at follow-up, never responds
RESPONDER = 0  # SPECS[0]: 16 -> 5 at follow-up, responds


@pytest.fixture
def cohort(clinic: Clinic) -> tuple[Clinic, list[Any]]:
    courses = build_cohort(SPECS, clinician=clinic.users["ada"])
    outcomes_refresh(acting_user=clinic.users["dana"])
    return clinic, courses


def _page(
    clinic: Clinic, timepoint: str = "post_induction", defs: OutcomeDefinitions | None = None
) -> tuple[int, int, int, int]:
    """What the clinic page does: bring the rows up to date, then read the figures."""
    outcomes_current(acting_user=clinic.users["ada"], definitions=defs)
    figures = clinic_outcomes(
        clinic.users["ada"], Filters(measure="gad7", timepoint=timepoint), defs
    )
    assert not figures.pending
    total = figures.cells[0]
    return (
        total.started,
        total.with_data,
        total.counts.get("responded", 0),
        total.counts.get("remitted", 0),
    )


def _score(clinic: Clinic, course: Any, at: Any, total: int) -> Administration:
    return Administration.objects.create(
        patient_id=course.patient_id,
        instrument="gad7",
        answers={},
        total=total,
        administered_at=at,
        entered_by=clinic.users["ada"],
        mode=AdministrationMode.STAFF_ENTRY,
    )


def _last_infusion(course: Any) -> Any:
    return START + timedelta(days=INFUSION_DAYS[-1])


def _snapshot() -> dict[tuple[Any, str], tuple[Any, ...]]:
    from ketaclinic.outcomes.tests.test_set_based import _snapshot as snapshot

    return snapshot()


def test_a_new_score_shows_on_the_page_and_only_its_patient_is_recomputed(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    clinic, courses = cohort
    assert _page(clinic) == (6, 4, 2, 0)
    others = set(CourseOutcome.objects.exclude(course=courses[NEVER]).values_list("pk", flat=True))
    # the never-responder scores 4 25 days after the last infusion (the latest in 14-31 days)
    _score(clinic, courses[NEVER], _last_infusion(courses[NEVER]) + timedelta(days=25), 4)
    assert list(DirtyPatient.objects.values_list("patient_id", flat=True)) == [
        courses[NEVER].patient_id
    ]
    assert _page(clinic) == (6, 4, 3, 1)
    assert not DirtyPatient.objects.exists()
    # the other patients' rows were not rewritten
    assert others <= set(CourseOutcome.objects.values_list("pk", flat=True))
    drain = OutcomeRefresh.objects.order_by("-pk").first()
    assert drain is not None and drain.scope == RefreshScope.CHANGED and drain.courses == 1


def test_a_signed_session_shows_and_a_cancelled_one_goes(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    clinic, courses = cohort
    course = courses[RESPONDER]
    seventh = START + timedelta(days=13)
    # a score the day after a seventh infusion that is booked, not yet given
    _score(clinic, course, seventh + timedelta(days=1), 4)
    session = Session.objects.create(
        course=course,
        chair=Chair.objects.get(name="Outcomes chair"),
        phase="induction",
        start=seventh,
        chair_until=seventh + timedelta(hours=3),
        status=SessionStatus.SCHEDULED,
        created_by=clinic.users["ada"],
    )
    assert _page(clinic, "infusion:7") == (6, 0, 0, 0)
    session.status = SessionStatus.SIGNED
    session.save(update_fields=["status"])
    assert _page(clinic, "infusion:7") == (6, 1, 1, 1)
    assert CourseOutcome.objects.get(course=course, measure="gad7").infusions_given == 7
    # cancelled (status change) and the course's sixth infusion cancelled too
    Session.objects.filter(course=course, start__gte=START + timedelta(days=11)).update(
        status=SessionStatus.CANCELLED
    )
    assert _page(clinic, "infusion:7") == (6, 0, 0, 0)
    assert _page(clinic, "infusion:6")[1] == 3  # 4 with data before, this course's 6th gone
    assert CourseOutcome.objects.get(course=course, measure="gad7").infusions_given == 5


def test_a_deleted_score_goes_from_the_page(cohort: tuple[Clinic, list[Any]]) -> None:
    clinic, courses = cohort
    assert _page(clinic) == (6, 4, 2, 0)
    Administration.objects.filter(
        patient_id=courses[RESPONDER].patient_id,
        administered_at=_last_infusion(courses[RESPONDER]) + timedelta(days=20),
    ).delete()
    assert _page(clinic) == (6, 3, 1, 0)


def test_a_new_threshold_version_recomputes_every_course(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    clinic, _ = cohort
    assert _page(clinic) == (6, 4, 2, 0)
    text = resources.files("ketaclinic.outcomes.rules").joinpath("data/definitions-v1.json")
    data = json.loads(text.read_text("utf-8"))
    data["version"] = 2
    data["measures"]["gad7"]["response_fall_percent"] = 20  # 15 -> 12 (a tie) and 12 -> 9
    edited = definitions_from_dict(data)
    assert _page(clinic, defs=edited) == (6, 4, 4, 0)
    assert set(CourseOutcome.objects.values_list("definitions_label", flat=True)) == {
        "ketaclinic-outcomes v2"
    }
    figures = clinic_outcomes(clinic.users["ada"], Filters(measure="gad7"), edited)
    assert figures.refreshed is not None
    assert figures.refreshed.definitions_label == "ketaclinic-outcomes v2"
    # the page under the shipped version again: back to its figures
    assert _page(clinic) == (6, 4, 2, 0)
    # a reader that skipped the upkeep is told the figures are not current
    stale = clinic_outcomes(clinic.users["ada"], Filters(measure="gad7"), edited)
    assert stale.pending


def test_writes_that_bypass_save_are_marked(cohort: tuple[Clinic, list[Any]]) -> None:
    clinic, courses = cohort
    patient = courses[NEVER].patient_id
    Administration.objects.filter(patient_id=patient, total=12).update(total=4)
    assert set(DirtyPatient.objects.values_list("patient_id", flat=True)) == {patient}
    assert _page(clinic) == (6, 4, 3, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Administration._meta.db_table} SET total = 12 WHERE total = 4"  # noqa: S608
            " AND patient_id = %s",
            [patient.hex if connection.vendor == "sqlite" else patient],
        )
    assert _page(clinic) == (6, 4, 2, 0)
    # a column the outcomes do not read marks nobody
    Administration.objects.filter(patient_id=patient).update(answers={"note": 1})
    assert not DirtyPatient.objects.exists()


def test_a_new_diagnosis_moves_the_course_to_its_disorder(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    from ketaclinic.eligibility.models import Evaluation

    clinic, courses = cohort
    first = Evaluation.objects.filter(patient_id=courses[NEVER].patient_id).get()
    Evaluation.objects.create(
        patient_id=courses[NEVER].patient_id,
        input_json={"diagnoses": ["F40.10"]},
        proposal_json={},
        outcome=first.outcome,
        ruleset=first.ruleset,
        created_by=clinic.users["ada"],
        created_at=first.created_at + timedelta(days=1),
    )
    outcomes_current(acting_user=None)
    figures = clinic_outcomes(clinic.users["ada"], Filters(measure="gad7", disorder="social"))
    assert [(c.started, c.with_data) for c in figures.cells] == [(2, 2)]


def test_missing_triggers_are_reinstalled_and_everything_recomputed(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    clinic, courses = cohort
    name = f"{PREFIX}administration_i"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER {name} ON {Administration._meta.db_table}")
        else:
            cursor.execute(f"DROP TRIGGER {name}")
    assert not triggers_installed(connection)
    _score(clinic, courses[NEVER], _last_infusion(courses[NEVER]) + timedelta(days=25), 4)
    assert not DirtyPatient.objects.exists()  # unmarked: the trigger was gone
    assert _page(clinic) == (6, 4, 3, 1)
    assert triggers_installed(connection)
    run = OutcomeRefresh.objects.order_by("-pk").first()
    assert run is not None and run.scope == RefreshScope.FULL
    install_triggers(connection)  # idempotent
    assert triggers_installed(connection)


def test_after_many_changes_the_rows_equal_a_full_rebuild(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    clinic, courses = cohort
    _charted(clinic, courses)
    more = build_cohort(
        [Spec("F41.0", 10, (8, 6, 6, 5, 4, 3), follow_up=2, measure="pdss_sr")],
        clinician=clinic.users["ada"],
    )
    _score(clinic, courses[2], _last_infusion(courses[2]) + timedelta(days=22), 3)
    Administration.objects.filter(patient_id=courses[3].patient_id).order_by(
        "administered_at"
    ).first().delete()  # type: ignore[union-attr]
    Session.objects.filter(course=courses[4]).order_by("-start").first().delete()  # type: ignore[union-attr]
    outcomes_current(acting_user=None)
    Administration.objects.filter(patient_id=more[0].patient_id).update(total=1)
    Session.objects.filter(course=courses[5]).delete()  # a course deleted with its sessions
    courses[5].delete()
    # chart writes that bypass save(): a queryset update and a raw delete
    from ketaclinic.infusions.models import ChartEntry, VitalsReading

    VitalsReading.objects.filter(systolic_mmhg=160).update(systolic_mmhg=175)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {ChartEntry._meta.db_table} WHERE kind = 'pause'"  # noqa: S608
        )
    outcomes_current(acting_user=None)
    incremental = _snapshot()
    safety = (_safety_snapshot(), _safety_figures())
    outcomes_refresh(acting_user=None)
    assert _snapshot() == incremental
    assert (_safety_snapshot(), _safety_figures()) == safety
    assert len(safety[0]) == 36 - 1 - 6 + 6  # a session and a course deleted; a new course
    assert len(incremental) >= 14
    assert shipped_definitions().label == "ketaclinic-outcomes v1"


def test_the_page_the_api_and_the_public_figures_count_a_new_score(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    from ketaclinic.outcomes.publishing import figure_approve, figure_choose, figures_refresh

    clinic, courses = cohort
    figure = figure_choose(
        acting_user=clinic.users["dana"], measure="gad7", timepoint="post_induction"
    )
    figure.min_patients = 1
    figure.save(update_fields=["min_patients"])
    figure_approve(acting_user=clinic.users["ada"], figure_id=figure.pk)
    _score(clinic, courses[NEVER], _last_infusion(courses[NEVER]) + timedelta(days=25), 4)
    html = clinic.client("ada").get("/outcomes/").content.decode()
    assert "3 of 4 with data · 6 started · 2 missing" in html  # was 2 of 4
    assert "changed after these figures were computed" not in html
    _score(clinic, courses[2], _last_infusion(courses[2]) + timedelta(days=26), 1)
    body = clinic.api("ada").get("/api/v1/outcomes/clinic?measure=gad7").json()
    assert body["cells"][0]["rates"][0]["count"] == 4  # the API drained it too
    Administration.objects.filter(patient_id=courses[2].patient_id, total=1).delete()
    assert figures_refresh() == 1
    figure.refresh_from_db()
    assert figure.snapshot["cells"][0]["rates"]["responded"]["count"] == 3


def _safety_snapshot() -> list[tuple[Any, ...]]:
    from ketaclinic.outcomes.models import SessionSafetyRow

    return list(SessionSafetyRow.objects.order_by("session_id").values_list())


def _safety_figures() -> Any:
    from ketaclinic.outcomes.selectors import safety_for

    return [safety_for(Filters(measure=m)) for m in ("gad7", "phq9")]


def _charted(clinic: Clinic, courses: list[Any]) -> list[Session]:
    """Charts on three sessions of two courses (the safety figures' hand-worked fixtures)."""
    from ketaclinic.outcomes.tests.test_safety_figures import _chart

    ada = clinic.users["ada"]
    first = list(courses[RESPONDER].sessions.order_by("start"))
    second = list(courses[NEVER].sessions.order_by("start"))
    _chart(first[0], ada, mg_per_kg="0.5", baseline=(120, 80), during=[(150, 95)],
           stop_minute=40, cadss=[8, 12])  # fmt: skip
    _chart(first[1], ada, mg_per_kg="0.6", baseline=(130, 85), during=[(140, 84)],
           stop_minute=25, cadss=[20], pause=(5, 8))  # fmt: skip
    _chart(second[0], ada, mg_per_kg="1.0", baseline=(120, 80), during=[(160, 100)],
           stop_minute=None)  # fmt: skip
    return [first[0], first[1], second[0]]


def test_chart_writes_mark_their_patient_and_reach_the_safety_figures(
    cohort: tuple[Clinic, list[Any]],
) -> None:
    from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, DoseCheck, VitalsReading

    clinic, courses = cohort
    outcomes_current(acting_user=None)
    assert [(b.band, b.sessions) for b in _safety_figures()[0].by_dose] == [("no_dose", 36)]
    charted = _charted(clinic, courses)
    patients = {courses[RESPONDER].patient_id, courses[NEVER].patient_id}
    assert set(DirtyPatient.objects.values_list("patient_id", flat=True)) == patients
    outcomes_current(acting_user=None)
    before = _safety_figures()[0]
    assert [(b.band, b.sessions) for b in before.by_dose] == [
        ("0_5", 2),
        ("1_0", 1),
        ("no_dose", 33),
    ]
    assert before.by_dose[0].systolic_rise.maximum == 30
    # a queryset update of a reading (no save): its patient is marked, the peak moves
    VitalsReading.objects.filter(session=charted[0], systolic_mmhg=150).update(systolic_mmhg=170)
    assert set(DirtyPatient.objects.values_list("patient_id", flat=True)) == {
        courses[RESPONDER].patient_id
    }
    outcomes_current(acting_user=None)
    assert _safety_figures()[0].by_dose[0].systolic_rise.maximum == 50
    # raw SQL on a dose check, a deleted stop, an unconfirmed monitor row confirmed
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DoseCheck._meta.db_table} SET infusion_minutes = 60"  # noqa: S608
            " WHERE session_id = %s",
            [charted[1].pk.hex if connection.vendor == "sqlite" else charted[1].pk],
        )
    ChartEntry.objects.filter(session=charted[0], kind=ChartEntryKind.INFUSION_STOP).delete()
    VitalsReading.objects.filter(session=charted[0], source="monitor").update(confirmed_at=START)
    assert DirtyPatient.objects.count() == 1
    outcomes_current(acting_user=None)
    incremental = (_safety_snapshot(), _safety_figures())
    outcomes_refresh(acting_user=None)
    assert (_safety_snapshot(), _safety_figures()) == incremental
    # a column the figures do not read marks nobody
    VitalsReading.objects.filter(session=charted[0]).update(device="m2")
    ChartEntry.objects.filter(session=charted[0]).update(reason="typo")
    assert not DirtyPatient.objects.exists()
