"""The session's history in the clinic's words: each chart entry, set of vital signs, alert
and signature of a session snapshot as one sentence, in time order. Pure (no Django): it reads
the snapshot's plain dicts, so the page and the printed record say the same thing.

No stored code reaches the reader: states, effects, instruments and actions are put in words
here, and an unknown one is shown with its underscores as spaces rather than hidden."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PHASE_WORDS = {
    "scheduled": "booked",
    "checked_in": "before the dose",
    "infusing": "during the infusion",
    "recovery": "in recovery",
    "discharged": "after discharge",
    "signed": "signed",
}
STATUS_WORDS = {
    "scheduled": "Booked",
    "checked_in": "Checked in",
    "infusing": "Infusing",
    "recovery": "In recovery",
    "discharged": "Discharged, to sign",
    "signed": "Signed",
    "cancelled": "Cancelled",
}
PREGNANCY_WORDS = {
    "negative": "pregnancy test negative",
    "positive": "pregnancy test POSITIVE",
    "not_applicable": "pregnancy test not applicable",
}
PRECHECK_WORDS = {
    "identity_confirmed": "identity",
    "consent_current": "consent",
    "fasting": "fasting",
    "escort_confirmed": "escort",
    "questionnaires_done": "questionnaires",
}
INSTRUMENT_WORDS = {
    "dissociation_0_4": "dissociation rating (0-4)",
    "cadss": "CADSS",
    "moaas": "MOAA/S",
}
UNMET_WORDS = {
    "observation_too_short": "observation time not reached",
    "aldrete_below_gate": "Aldrete below the minimum",
    "no_escort": "no escort",
}
ROLE_WORDS = {"nurse": "Nurse", "clinician": "Clinician"}


def words(code: object) -> str:
    """A stored code as words: `rate_change` -> `rate change`."""
    return str(code).replace("_", " ")


def number(value: object) -> str:
    """A stored decimal as typed: "155.4000" -> "155.4", "36.30" -> "36.3", "40" -> "40"."""
    text = str(value)
    if "." in text and text.replace(".", "", 1).lstrip("-").isdigit():
        text = text.rstrip("0").rstrip(".")
    return text


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, words(status).capitalize())


def phase_words(phase: str) -> str:
    return PHASE_WORDS.get(phase, words(phase))


def _yes(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) is True


def _prechecks(data: Mapping[str, Any]) -> str:
    done = [label for key, label in PRECHECK_WORDS.items() if _yes(data, key)]
    missing = [label for key, label in PRECHECK_WORDS.items() if not _yes(data, key)]
    parts = []
    if done:
        parts.append(", ".join(done) + " confirmed")
    if missing:
        parts.append("NOT confirmed: " + ", ".join(missing))
    pregnancy = data.get("pregnancy_test")
    if pregnancy:
        parts.append(PREGNANCY_WORDS.get(str(pregnancy), f"pregnancy test {words(pregnancy)}"))
    if data.get("weight_kg") is not None:
        parts.append(f"weight {number(data['weight_kg'])} kg")
    return "Pre-checks: " + "; ".join(parts) + "."


def _side_effect(data: Mapping[str, Any]) -> str:
    effect = words(data.get("effect", "")).capitalize()
    text = f"Side effect: {effect}, {words(data.get('severity', ''))}"
    if data.get("intervention"):
        text += f"; {data['intervention']}"
    if data.get("drug"):
        text += f"; {data['drug']} {data.get('drug_dose', '')}".rstrip()
    if data.get("note"):
        text += f" ({data['note']})"
    return text + "."


def _discharge(data: Mapping[str, Any], reason: str) -> str:
    text = f"Discharged: Aldrete {data.get('aldrete')}"
    if data.get("minutes_observed") is not None:
        text += f", after {data['minutes_observed']} min of observation"
    text += ", escort present" if _yes(data, "escort_present") else ", NO escort"
    text += (
        ", instructions given" if _yes(data, "instructions_given") else ", instructions NOT given"
    )
    if data.get("overridden"):
        unmet = ", ".join(UNMET_WORDS.get(str(code), words(code)) for code in data.get("unmet", []))
        text += f"; clinician's override ({unmet}): {reason}"
    return text + "."


def entry_words(entry: Mapping[str, Any]) -> str:
    """One chart entry of a snapshot (kind, reason, data) as a sentence."""
    kind = str(entry.get("kind", ""))
    data: Mapping[str, Any] = entry.get("data") or {}
    reason = str(entry.get("reason") or "").strip()
    if kind == "check_in":
        return "Checked in."
    if kind == "prechecks":
        return _prechecks(data)
    if kind == "clinician_review":
        return f"Clinician reviewed the pre-dose hold: {reason}"
    if kind == "draw_exception":
        return f"Clinician allowed the start without a ledger draw: {reason}"
    if kind == "infusion_start":
        rate = data.get("rate_ml_per_h")
        return "Infusion started" + (f" at {number(rate)} mL/h." if rate is not None else ".")
    if kind == "rate_change":
        return f"Rate changed to {number(data.get('rate_ml_per_h'))} mL/h: {reason}"
    if kind == "pause":
        return f"Infusion paused: {reason}"
    if kind == "resume":
        return f"Infusion resumed: {reason}"
    if kind == "infusion_stop":
        given = data.get("administered_mg")
        text = "Infusion stopped"
        if given is not None:
            volume = data.get("administered_volume_ml")
            text += f"; {number(given)} mg given"
            text += f" ({number(volume)} mL)" if volume is not None else ""
        if reason and reason != "completed":
            text += f"; early: {reason}"
        return text + "."
    if kind == "side_effect":
        return _side_effect(data)
    if kind == "assessment":
        instrument = str(data.get("instrument", ""))
        name = INSTRUMENT_WORDS.get(instrument, words(instrument))
        return f"Assessment: {name} {data.get('score')}."
    if kind == "discharge":
        return _discharge(data, reason)
    if kind == "signature":
        return "Signed."
    text = words(kind).capitalize()
    return f"{text}: {reason}" if reason else f"{text}."


def vitals_words(v: Mapping[str, Any]) -> str:
    def shown(key: str) -> str:
        # A monitor's row may lack a value (no cuff reading in that message): a dash, not "None".
        value = v.get(key)
        return "-" if value is None else str(value)

    text = (
        f"Vital signs {phase_words(str(v.get('phase', '')))}: BP {shown('systolic_mmhg')}/"
        f"{shown('diastolic_mmhg')} mmHg, HR {shown('heart_rate_bpm')}/min, "
        f"SpO2 {shown('spo2_percent')}%, RR {shown('respiratory_rate')}/min"
    )
    if v.get("moaas") is not None:
        text += f", MOAA/S {v['moaas']}"
    return text + "."


def alert_words(a: Mapping[str, Any]) -> str:
    text = f"Alert: {a.get('message')}"
    if a.get("acknowledged_by"):
        note = a.get("acknowledgement_note")
        text += f" Acknowledged by {a['acknowledged_by']}" + (f": {note}" if note else ".")
    return text


@dataclass(frozen=True)
class HistoryLine:
    at: str
    """The snapshot's UTC text, for the page to show in the clinic's zone."""
    by: str
    text: str
    kind: str
    """entry, vitals, alert or signature (for styling)."""


def history_lines(snapshot: Mapping[str, Any]) -> list[HistoryLine]:
    """Every entry, reading, alert and signature of the snapshot, oldest first."""
    lines = [
        HistoryLine(str(e["at"]), str(e.get("by") or ""), entry_words(e), "entry")
        for e in snapshot.get("entries", [])
    ]
    lines += [
        HistoryLine(str(v["at"]), str(v.get("by") or ""), vitals_words(v), "vitals")
        for v in snapshot.get("vitals", [])
    ]
    lines += [
        HistoryLine(str(a["raised_at"]), "", alert_words(a), "alert")
        for a in snapshot.get("alerts", [])
    ]
    lines += [
        HistoryLine(
            str(s["at"]),
            str(s.get("by") or ""),
            f"{ROLE_WORDS.get(str(s.get('role')), words(s.get('role')))} signed the record.",
            "signature",
        )
        for s in snapshot.get("signatures", [])
    ]
    order = {"entry": 0, "vitals": 1, "alert": 2, "signature": 3}
    return sorted(lines, key=lambda line: (line.at, order[line.kind]))


VALUE_WORDS = {
    "systolic_mmhg": "Systolic BP {} mmHg",
    "diastolic_mmhg": "Diastolic BP {} mmHg",
    "heart_rate_bpm": "Heart rate {}/min",
    "spo2_percent": "SpO2 {}%",
    "respiratory_rate": "Respiratory rate {}/min",
    "moaas": "MOAA/S {}",
}


def value_words(field: str, value: object) -> str:
    """A measured value with its name and unit: ("spo2_percent", 89) -> "SpO2 89%"."""
    return VALUE_WORDS.get(field, words(field).capitalize() + " {}").format(value)


ACTION_RANK = {"stop": 0, "pause": 1, "call_prescriber": 2, "hold": 3, "slow": 4, "recheck": 5}
"""The worst first: an alert that says stop outranks one that says pause, and so on."""


def alert_rank(actions: str) -> int:
    """An alert's rank by the most urgent of its actions (comma-separated): lower is worse."""
    ranks = [ACTION_RANK.get(a.strip(), len(ACTION_RANK)) for a in actions.split(",") if a.strip()]
    return min(ranks, default=len(ACTION_RANK))
