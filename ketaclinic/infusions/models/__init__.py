"""Infusion sessions: the booked session (`session`) and its chart (`chart`: pre-checks, dose,
vitals, alerts, events, signatures, addenda). Callers import from here."""

from ketaclinic.infusions.models.chart import (
    Addendum,
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    RecordDocument,
    SessionAlert,
    SessionSignature,
    SignedRecord,
    VitalsReading,
    VitalsSource,
)
from ketaclinic.infusions.models.session import Session, SessionStatus

__all__ = [
    "Addendum",
    "ChartEntry",
    "ChartEntryKind",
    "DoseCheck",
    "RecordDocument",
    "Session",
    "SessionAlert",
    "SessionSignature",
    "SessionStatus",
    "SignedRecord",
    "VitalsReading",
    "VitalsSource",
]
