"""The safety section's figures from charted sessions worked out by hand: peak BP rise over
the pre-infusion baseline and peak dissociation by mg/kg dose band, early stops per 100 with
their denominator, on the page and in the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionStatus,
    VitalsReading,
    VitalsSource,
)
from ketaclinic.lib.hashchain import canonical_json
from ketaclinic.outcomes.selectors import Filters, safety_for
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.testing import Clinic

GAD = "F41.1"


def _vitals(
    session: Session, user: Any, minute: int, phase: str, sbp: int, dbp: int, **kw: Any
) -> None:
    VitalsReading.objects.create(
        session=session,
        at=session.start + timedelta(minutes=minute),
        phase=phase,
        systolic_mmhg=sbp,
        diastolic_mmhg=dbp,
        heart_rate_bpm=80,
        spo2_percent=98,
        respiratory_rate=14,
        recorded_by=user,
        **kw,
    )


def _entry(session: Session, user: Any, kind: str, minute: float, **data: Any) -> None:
    ChartEntry.objects.create(
        session=session,
        kind=kind,
        at=session.start + timedelta(minutes=minute),
        data_json=canonical_json(data),
        recorded_by=user,
    )


def _chart(
    session: Session,
    user: Any,
    *,
    mg_per_kg: str,
    baseline: tuple[int, int],
    during: list[tuple[int, int]],
    stop_minute: float | None,
    cadss: list[int] = (),  # type: ignore[assignment]
    pause: tuple[float, float] | None = None,
) -> None:
    DoseCheck.objects.create(
        session=session,
        amount=Decimal(mg_per_kg),
        weight_kg=Decimal("70"),
        dose_mg=Decimal(mg_per_kg) * 70,
        infusion_minutes=40,
        max_single_dose_mg=Decimal("100"),
        working="test",
        calculated_by=user,
    )
    _vitals(session, user, -20, SessionStatus.CHECKED_IN, 150, 95)  # an older pre-dose reading
    _vitals(session, user, -5, SessionStatus.CHECKED_IN, *baseline)
    for i, (sbp, dbp) in enumerate(during):
        _vitals(session, user, 15 * (i + 1), SessionStatus.INFUSING, sbp, dbp)
    # an artefact and an unconfirmed monitor row are never charted, however high
    _vitals(
        session,
        user,
        20,
        SessionStatus.INFUSING,
        230,
        140,
        artefact=True,
        artefact_reason="cuff moved",
    )
    VitalsReading.objects.create(
        session=session,
        at=session.start + timedelta(minutes=21),
        phase=SessionStatus.INFUSING,
        systolic_mmhg=225,
        diastolic_mmhg=130,
        source=VitalsSource.MONITOR,
        device="m1",
    )
    _entry(session, user, ChartEntryKind.INFUSION_START, 0)
    if pause is not None:
        _entry(session, user, ChartEntryKind.PAUSE, pause[0])
        _entry(session, user, ChartEntryKind.RESUME, pause[1])
    if stop_minute is not None:
        _entry(session, user, ChartEntryKind.INFUSION_STOP, stop_minute)
    for n, score in enumerate(cadss):
        _entry(session, user, ChartEntryKind.ASSESSMENT, 30 + n, instrument="cadss", score=score)


@pytest.fixture
def charted(clinic: Clinic) -> Clinic:
    ada = clinic.users["ada"]
    courses = build_cohort([Spec(GAD, 16, (14, 12)), Spec(GAD, 15, (13,))], clinician=ada)
    first = list(courses[0].sessions.order_by("start"))
    second = list(courses[1].sessions.order_by("start"))
    # 0.5 mg/kg band: baseline 120/80, peaks 150/95 -> +30/+15; CADSS peak 12
    _chart(
        first[0],
        ada,
        mg_per_kg="0.5",
        baseline=(120, 80),
        during=[(140, 90), (150, 95)],
        stop_minute=40,
        cadss=[8, 12],
    )
    # 0.5 band: baseline 130/85, peak 140/84 -> +10/-1; stopped at 25 minutes (early); CADSS 20
    _chart(
        first[1],
        ada,
        mg_per_kg="0.6",
        baseline=(130, 85),
        during=[(140, 84)],
        stop_minute=25,
        cadss=[20],
    )
    # 0.5 band: +20/+10, paused 5 minutes and stopped at 45: 40 infused, not early; no CADSS
    _chart(
        first[2],
        ada,
        mg_per_kg="0.5",
        baseline=(110, 70),
        during=[(130, 80)],
        stop_minute=45,
        pause=(10, 15),
    )
    # 1.0 mg/kg band: +40/+20, still infusing (no stop charted): not counted for early stops
    _chart(
        second[0],
        ada,
        mg_per_kg="1.0",
        baseline=(120, 80),
        during=[(160, 100)],
        stop_minute=None,
        cadss=[30],
    )
    outcomes_refresh(acting_user=None)
    return clinic


def test_peak_bp_rise_and_dissociation_by_dose_band(charted: Clinic) -> None:
    figures = safety_for(Filters(measure="gad7"))
    # 6 + 6 sessions given in the two courses; 4 charted with a dose, the rest have no dose
    assert figures.given == 12
    bands = {b.band: b for b in figures.by_dose}
    assert list(bands) == ["0_5", "1_0", "no_dose"]
    mid = bands["0_5"]
    assert mid.sessions == 3
    # systolic rises 10, 20, 30: median 20, quartiles 15 and 25
    s = mid.systolic_rise
    assert (s.n, s.q1, s.median, s.q3, s.maximum) == (3, 15.0, 20.0, 25.0, 30)
    d = mid.diastolic_rise  # -1, 10, 15
    assert (d.n, d.q1, d.median, d.q3, d.maximum) == (3, 4.5, 10.0, 12.5, 15)
    c = mid.dissociation["cadss"]  # peaks 12 and 20 (the third has none)
    assert (c.n, c.median, c.maximum) == (2, 16.0, 20)
    high = bands["1_0"]
    assert (high.sessions, high.systolic_rise.median, high.dissociation["cadss"].median) == (
        1,
        40.0,
        30.0,
    )
    # the sessions without a dose charted are counted apart (the protocol is by weight)
    assert bands["no_dose"].sessions == 8 and bands["no_dose"].systolic_rise.n == 0
    assert bands["no_dose"].label == "no dose charted"


def test_early_stops_per_100_with_their_denominator(charted: Clinic) -> None:
    figures = safety_for(Filters(measure="gad7"))
    early = next(r for r in figures.rows if r.kind.startswith("Stopped before"))
    # three infusions with planned minutes and a stop; one stopped at 25 of 40 minutes
    assert (early.count, early.denominator, early.per_100) == (1, 3, 33.3)
    assert "charted stop" in early.denominator_text


def test_safety_tables_on_the_page_and_in_the_csv(charted: Clinic) -> None:
    client = charted.client("ada")
    page = client.get("/outcomes/", {"measure": "gad7"}).content.decode()
    assert "Blood pressure rise and dissociation by dose" in page
    assert "0.5 to under 0.75 mg/kg" in page
    assert "1 of 3 infusions with planned minutes and a charted stop" in page
    assert "20 (15&ndash;25), highest 30" in page and "3 of 3" in page
    response = client.get("/outcomes/csv/safety_by_dose/", {"measure": "gad7"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    systolic = next(
        r for r in rows if r["dose_band"].startswith("0.5") and r["figure"].startswith("Systolic")
    )
    assert (systolic["sessions"], systolic["with_figure"], systolic["median"]) == ("3", "3", "20.0")
    assert systolic["definition"] == "ketaclinic-safety v1"
    response = client.get("/outcomes/csv/safety/", {"measure": "gad7"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    early = next(r for r in rows if r["kind"].startswith("Stopped before"))
    assert (early["count"], early["denominator"], early["per_100"]) == ("1", "3", "33.3")


def test_safety_figures_in_the_api(charted: Clinic) -> None:
    body = charted.api("ada").get("/api/v1/outcomes/clinic?measure=gad7").json()
    bands = {b["band"]: b for b in body["safety_by_dose_band"]}
    mid = bands["0_5"]
    assert (mid["sessions"], mid["systolic_rise_mmhg"]["median"]) == (3, 20.0)
    assert mid["peak_dissociation"]["cadss"]["n"] == 2
    early = next(r for r in body["safety"] if r["kind"].startswith("Stopped before"))
    assert (early["count"], early["denominator"], early["per_100_infusions"]) == (1, 3, 33.3)
    assert body["safety_definitions"] == "ketaclinic-safety v1"
