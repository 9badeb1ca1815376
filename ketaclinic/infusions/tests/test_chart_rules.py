"""The chart's pure rules, without a database: which step comes next in each state and for
whom (the signer is not asked to sign again), the history in the clinic's words (no stored
codes, no Python dicts), and the plot's axes with 0, 1 and many readings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ketaclinic.infusions.rules import history, steps, vitals_panels
from ketaclinic.infusions.rules.steps import StepFacts

READY: dict[str, Any] = {
    "prechecks_open": False,
    "baseline_recorded": True,
    "dose_calculated": True,
    "dose_second_checked": True,
}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (StepFacts("scheduled"), "check_in"),
        (StepFacts("checked_in"), "prechecks"),
        (StepFacts("checked_in", prechecks_open=False), "baseline_vitals"),
        (StepFacts("checked_in", prechecks_open=False, baseline_recorded=True), "dose"),
        (
            StepFacts("checked_in", prechecks_open=False, baseline_recorded=True, hold=True),
            "review",
        ),
        (
            StepFacts(
                "checked_in",
                prechecks_open=False,
                baseline_recorded=True,
                hold=True,
                hold_reviewed=True,
            ),
            "dose",
        ),
        (StepFacts("checked_in", **READY | {"dose_second_checked": False}), "second_check"),
        (StepFacts("checked_in", **READY, draw_missing=True), "draw"),
        (StepFacts("checked_in", **READY), "start"),
        (StepFacts("infusing"), "stop"),
        (StepFacts("recovery"), "discharge"),
        (StepFacts("discharged", viewer_role="nurse"), "sign"),
        (StepFacts("signed"), None),
        (StepFacts("cancelled"), None),
    ],
)
def test_the_next_step_follows_the_chart_order(facts: StepFacts, expected: str | None) -> None:
    assert steps.next_step_key(facts) == expected


def test_after_the_nurse_signs_signing_is_not_her_next_step_but_the_clinicians() -> None:
    nurse_signed = frozenset({"nurse"})
    nurse = StepFacts("discharged", signed_roles=nurse_signed, viewer_role="nurse")
    clinician = StepFacts("discharged", signed_roles=nurse_signed, viewer_role="clinician")
    assert steps.next_step_key(nurse) is None
    assert not steps.step_applies("sign", nurse)
    assert steps.waiting_for(nurse) == (
        "You have signed. Waiting for the clinician to sign; then the record is frozen."
    )
    assert steps.next_step_key(clinician) == "sign"
    assert steps.step_applies("sign", clinician)
    assert steps.waiting_for(clinician) is None


def test_every_step_applies_in_some_state() -> None:
    states = ("scheduled", "checked_in", "infusing", "recovery", "discharged", "signed")
    facts = [StepFacts(s, **READY, hold=True, draw_missing=True) for s in states]
    facts += [
        StepFacts("discharged", viewer_role="nurse"),
        StepFacts("checked_in", dose_calculated=True),  # before its second check
    ]
    for key in steps.STEP_ORDER:
        assert any(steps.step_applies(key, f) for f in facts), key


def entry(kind: str, data: dict[str, object] | None = None, reason: str = "") -> dict[str, object]:
    return {
        "kind": kind,
        "at": "2026-12-02T14:05:00.000000Z",
        "by": "ben",
        "reason": reason,
        "data": data or {},
    }


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (entry("check_in"), "Checked in."),
        (
            entry(
                "prechecks",
                {
                    "identity_confirmed": True,
                    "consent_current": True,
                    "fasting": False,
                    "escort_confirmed": True,
                    "questionnaires_done": True,
                    "pregnancy_test": "not_applicable",
                    "weight_kg": "72.50",
                    "weight_measured_at": "2026-12-01T10:00:00+00:00",
                },
            ),
            "Pre-checks: identity, consent, escort, questionnaires confirmed; NOT confirmed: "
            "fasting; pregnancy test not applicable; weight 72.5 kg.",
        ),
        (entry("infusion_start", {"rate_ml_per_h": "155.4000"}), "Infusion started at 155.4 mL/h."),
        (
            entry("rate_change", {"rate_ml_per_h": "120"}, "Nausea"),
            "Rate changed to 120 mL/h: Nausea",
        ),
        (entry("pause", reason="Asked for a break"), "Infusion paused: Asked for a break"),
        (
            entry(
                "infusion_stop",
                {"administered_mg": "36.3000", "administered_volume_ml": "3.63"},
                "completed",
            ),
            "Infusion stopped; 36.3 mg given (3.63 mL).",
        ),
        (
            entry(
                "side_effect",
                {
                    "effect": "nausea",
                    "severity": "mild",
                    "intervention": "",
                    "drug": "ondansetron",
                    "drug_dose": "4 mg IV",
                    "note": "",
                },
            ),
            "Side effect: Nausea, mild; ondansetron 4 mg IV.",
        ),
        (
            entry("assessment", {"instrument": "dissociation_0_4", "score": 2}),
            "Assessment: dissociation rating (0-4) 2.",
        ),
        (
            entry(
                "discharge",
                {
                    "aldrete": 8,
                    "escort_present": True,
                    "instructions_given": True,
                    "minutes_observed": 45,
                    "overridden": True,
                    "unmet": ["observation_too_short", "aldrete_below_gate"],
                },
                "Stable, escort waiting",
            ),
            "Discharged: Aldrete 8, after 45 min of observation, escort present, instructions "
            "given; clinician's override (observation time not reached, Aldrete below the "
            "minimum): Stable, escort waiting.",
        ),
        (entry("some_new_kind", reason="why"), "Some new kind: why"),
    ],
)
def test_each_chart_entry_reads_as_a_sentence(item: dict[str, object], words: str) -> None:
    assert history.entry_words(item) == words


def test_the_history_merges_entries_readings_alerts_and_signatures_in_time_order() -> None:
    snapshot = {
        "entries": [entry("check_in")],
        "vitals": [
            {
                "at": "2026-12-02T14:10:00.000000Z",
                "phase": "checked_in",
                "systolic_mmhg": 150,
                "diastolic_mmhg": 95,
                "heart_rate_bpm": 80,
                "spo2_percent": 98,
                "respiratory_rate": 14,
                "moaas": None,
                "by": "ben",
            },
        ],
        "alerts": [
            {
                "raised_at": "2026-12-02T14:10:00.000000Z",
                "message": "BP at or above 140/90.",
                "code": "sbp_predose",
                "acknowledged_by": "ada",
                "acknowledgement_note": "Repeat BP 136/86",
            },
        ],
        "signatures": [{"role": "nurse", "by": "ben", "at": "2026-12-02T15:30:00.000000Z"}],
    }
    lines = history.history_lines(snapshot)
    assert [line.text for line in lines] == [
        "Checked in.",
        "Vital signs before the dose: BP 150/95 mmHg, HR 80/min, SpO2 98%, RR 14/min.",
        "Alert: BP at or above 140/90. Acknowledged by ada: Repeat BP 136/86",
        "Nurse signed the record.",
    ]
    text = " ".join(line.text for line in lines)
    assert "{" not in text and "checked_in" not in text and "sbp_predose" not in text


def test_states_and_values_are_words_with_units() -> None:
    assert history.status_words("checked_in") == "Checked in"
    assert history.status_words("discharged") == "Discharged, to sign"
    assert history.value_words("spo2_percent", 89) == "SpO2 89%"
    assert history.value_words("systolic_mmhg", 182) == "Systolic BP 182 mmHg"


def test_the_worst_alert_ranks_first_by_its_most_urgent_action() -> None:
    ranked = sorted(
        ["recheck", "slow,recheck,call_prescriber", "stop,call_prescriber", "pause,recheck"],
        key=history.alert_rank,
    )
    assert ranked == [
        "stop,call_prescriber",
        "pause,recheck",
        "slow,recheck,call_prescriber",
        "recheck",
    ]


MIN = vitals_panels.MINUTE_MS
NOW = int(datetime(2026, 12, 2, 14, 7, 30, tzinfo=UTC).timestamp() * 1000)


def test_the_time_axis_never_collapses_and_runs_forwards() -> None:
    none = vitals_panels.time_axis([], now_ms=NOW)
    one = vitals_panels.time_axis([NOW], now_ms=NOW)
    many = vitals_panels.time_axis([NOW - 50 * MIN, NOW - 20 * MIN, NOW], now_ms=NOW)
    for start, end, step in (none, one, many):
        assert start < end
        assert end - start >= vitals_panels.MIN_SPAN_MS
        assert start % step == 0 and end % step == 0  # whole-tick bounds: 14:05, not 14:03
        assert (end - start) / step <= vitals_panels.MAX_TICKS + 1
    assert none[0] <= NOW <= none[1]
    assert one[0] < NOW < one[1]
    assert many[0] <= NOW - 50 * MIN and many[1] >= NOW
    assert one[0] > NOW - 60 * MIN  # centred on the reading, not on 1970


def test_each_scale_has_its_own_panel_widened_to_hold_every_value() -> None:
    readings = [
        {
            "systolic_mmhg": 210,
            "diastolic_mmhg": 100,
            "heart_rate_bpm": 90,
            "spo2_percent": 91,
            "respiratory_rate": 12,
            "moaas": None,
        },
    ]
    lines = [
        vitals_panels.ThresholdLine("spo2_percent", "<", 92, False),
        vitals_panels.ThresholdLine("systolic_mmhg", ">=", 140, True),
    ]
    panels = {p["key"]: p for p in vitals_panels.panels(readings, lines, at_ms={0: NOW})}
    assert list(panels) == ["bp_hr", "spo2", "rr", "moaas"]
    assert panels["bp_hr"]["y_max"] > 210  # widened to the reading
    assert (panels["spo2"]["y_min"], panels["spo2"]["y_max"]) == (85, 100)
    assert panels["spo2"]["thresholds"] == [
        {"field": "spo2_percent", "value": 92, "label": "alert: SpO2 < 92", "predose": False}
    ]
    assert panels["bp_hr"]["thresholds"][0]["label"] == "hold before dose: systolic \u2265 140"
    assert panels["moaas"]["count"] == 0 and panels["moaas"]["series"][0]["points"] == []
