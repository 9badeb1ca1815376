"""The content of a letter, assembled from plain values: placeholders filled, the scores
table, the outcome in words, the signature block and the snapshot that is signed.

Pure: the services read the record and pass plain values in; nothing here touches a
database. Response and remission come from the outcomes app's rules (its definitions, with
their sources); this module only words them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "default_templates.json"
KINDS = ("evaluation", "induction", "discharge")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# Every placeholder a template may use, by kind (the common ones in every kind).
COMMON = ("patient_name", "birth_date", "clinic_name", "recipient_name", "today")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "evaluation": (*COMMON, "decision", "decision_date", "reasons"),
    "induction": (
        *COMMON,
        "sessions_given",
        "first_session",
        "last_session",
        "protocol",
        "outcome_summary",
        "adverse_events",
    ),
    "discharge": (
        *COMMON,
        "sessions_given",
        "protocol",
        "course_ended_on",
        "end_reason",
        "outcome_summary",
        "adverse_events",
    ),
}
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class TemplateText:
    subject: str
    body: str


@cache
def default_templates() -> dict[str, TemplateText]:
    """The published defaults, one per kind."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))["templates"]
    return {kind: TemplateText(raw[kind]["subject"], raw[kind]["body"]) for kind in KINDS}


def template_problems(kind: str, text: str) -> list[str]:
    """Placeholders a template of ``kind`` may not use (a typo would print as typed)."""
    allowed = set(PLACEHOLDERS[kind])
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in allowed})
    return [f"Unknown placeholder {{{name}}}." for name in unknown]


def fill(text: str, values: Mapping[str, str]) -> str:
    """Each ``{name}`` replaced by its value; an unknown one is left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class ScoreRow:
    """One measure's line of the scores table."""

    measure: str  # "GAD-7"
    baseline: int | None
    baseline_on: str  # ISO date, or ""
    latest: int | None
    latest_on: str
    responded: bool | None  # None: no baseline or no score after it
    remitted: bool | None

    @property
    def change(self) -> int | None:
        if self.baseline is None or self.latest is None:
            return None
        return self.latest - self.baseline


def score_row_cells(row: ScoreRow) -> tuple[str, str, str, str, str]:
    """The table's cells: measure, baseline, latest, change, response/remission in words."""

    def at(score: int | None, on: str) -> str:
        return "-" if score is None else f"{score} ({on})" if on else str(score)

    change = row.change
    return (
        row.measure,
        at(row.baseline, row.baseline_on),
        at(row.latest, row.latest_on),
        "-" if change is None else f"{change:+d}",
        outcome_words(row),
    )


def outcome_words(row: ScoreRow) -> str:
    if row.responded is None:
        return "not assessable"
    if row.remitted:
        return "remission"
    if row.responded:
        return "response"
    return "no response yet"


def outcome_summary(rows: Sequence[ScoreRow]) -> str:
    """One sentence per measure with a baseline and a later score."""
    parts = []
    for row in rows:
        if row.responded is None or row.baseline is None or row.latest is None:
            continue
        parts.append(f"{row.measure} {row.baseline} to {row.latest} ({outcome_words(row)})")
    if not parts:
        return "no scores before and after the first infusion to compare."
    return "; ".join(parts) + "."


def adverse_events_text(events: Sequence[tuple[str, str]]) -> str:
    """(effect, severity) pairs counted: "nausea (mild) x2, headache (moderate)"; "none"."""
    if not events:
        return "none."
    counted: dict[tuple[str, str], int] = {}
    for event in events:
        counted[event] = counted.get(event, 0) + 1
    words = [
        f"{effect.replace('_', ' ')} ({severity})" + (f" x{n}" if n > 1 else "")
        for (effect, severity), n in counted.items()
    ]
    return ", ".join(words) + "."


def reasons_text(reasons: Sequence[str], rationale: str) -> str:
    """The decision's reasons as a list, the clinician's rationale first."""
    lines = [f"- {rationale.strip()}"] if rationale.strip() else []
    lines += [f"- {reason}" for reason in reasons if reason.strip()]
    return "\n".join(lines) if lines else f"- {NOT_RECORDED}"


def iso(day: date | datetime | None) -> str:
    return "" if day is None else day.strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Signature:
    name: str
    role: str
    signed_at: str  # clinic-zone "YYYY-MM-DD HH:MM"


def signature_lines(signature: Signature | None) -> list[str]:
    """The signature block of the PDF; a draft says so."""
    if signature is None:
        return ["DRAFT - not signed"]
    return [
        f"Signed by: {signature.name}",
        f"Role: {signature.role}",
        f"Signed at: {signature.signed_at}",
    ]


@dataclass(frozen=True)
class LetterContent:
    """Everything the PDF shows and the signature covers."""

    letter_id: str
    kind: str
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    patient_name: str
    birth_date: str
    recipient_name: str
    recipient_organisation: str
    recipient_address: str
    subject: str
    body: str
    scores: tuple[ScoreRow, ...]
    score_note: str
    dated: str


def snapshot(content: LetterContent, signature: Signature) -> dict[str, Any]:
    """The signed snapshot (canonical JSON by ``digest``)."""
    return {"content": asdict(content), "signature": asdict(signature)}


def digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def score_rows_from(raw: Sequence[Mapping[str, Any]]) -> tuple[ScoreRow, ...]:
    """The rows back from the JSON stored in a draft's ``facts``."""
    return tuple(
        ScoreRow(
            measure=str(r["measure"]),
            baseline=r.get("baseline"),
            baseline_on=str(r.get("baseline_on", "")),
            latest=r.get("latest"),
            latest_on=str(r.get("latest_on", "")),
            responded=r.get("responded"),
            remitted=r.get("remitted"),
        )
        for r in raw
    )
