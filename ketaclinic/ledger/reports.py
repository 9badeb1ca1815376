"""Ledger reports: the dispensing record of 21 CFR 1304.22(c) (page, CSV and PDF), the
reconciliation of charted doses against ledger draws, and a container's history.

Reading a report reads patient names and addresses: each patient listed is an audited read.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from fpdf import FPDF

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import Session
from ketaclinic.ledger.arithmetic import LedgerState, apply
from ketaclinic.ledger.entries import ZERO
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry, RegisteredLocation
from ketaclinic.ledger.selectors import entry_ref, entry_to_pure, session_ledger_problems

SUBSTANCE = "Ketamine hydrochloride (Schedule III)"

DISPOSAL_KINDS = {
    EntryKind.WASTE: "wasted",
    EntryKind.DESTRUCTION: "destroyed",
    EntryKind.RETURN: "returned",
    EntryKind.BREAKAGE: "broken",
    EntryKind.LOSS: "lost",
}
BUCKETS = ("received", "administered", "wasted", "destroyed", "returned", "broken", "lost")


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.username)


@dataclass(frozen=True)
class ProductLine:
    product_name: str
    finished_form: str
    container_ml: Decimal
    ndc: str


@dataclass(frozen=True)
class ReceiptLine:
    date: date
    product_name: str
    finished_form: str
    container_ml: Decimal
    ndc: str
    lot: str
    containers: int
    quantity_ml: Decimal
    supplier_name: str
    supplier_address: str
    supplier_dea_number: str
    reference: str
    received_by: str


@dataclass(frozen=True)
class AdministrationLine:
    date: date
    entry: str
    container: int
    lot: str
    patient_name: str
    patient_address: str
    quantity_ml: Decimal
    quantity_mg: Decimal
    administered_by: str
    note: str = ""


@dataclass(frozen=True)
class DisposalLine:
    date: date
    entry: str
    container: int
    lot: str
    manner: str
    quantity_ml: Decimal
    quantity_mg: Decimal
    by: str
    witnesses: str
    note: str = ""


@dataclass
class DispensingRecord:
    location: RegisteredLocation
    start: date
    end: date
    substance: str = SUBSTANCE
    products: list[ProductLine] = field(default_factory=list)
    receipts: list[ReceiptLine] = field(default_factory=list)
    administrations: list[AdministrationLine] = field(default_factory=list)
    disposals: list[DisposalLine] = field(default_factory=list)
    totals_ml: dict[str, Decimal] = field(default_factory=dict)
    opening_on_hand_ml: Decimal = ZERO
    closing_on_hand_ml: Decimal = ZERO
    closing_balances_ml: dict[int, Decimal] = field(default_factory=dict)

    @property
    def totals_add_up(self) -> bool:
        """Opening + received - every disposal = closing on hand."""
        out = sum((self.totals_ml[b] for b in BUCKETS if b != "received"), ZERO)
        return self.opening_on_hand_ml + self.totals_ml["received"] - out == self.closing_on_hand_ml


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _finished_form(container: Container) -> str:
    return f"{container.receipt.form}, {container.mg_per_ml.normalize():f} mg/mL"


def _on_hand_at(
    containers: list[Container], rows: list[LedgerEntry], before: datetime
) -> dict[int, tuple[Decimal, Decimal]]:
    """(in container, on hand) per container, from the entries before a moment."""
    by_container: dict[int, list[LedgerEntry]] = defaultdict(list)
    for row in rows:
        if row.at < before:
            by_container[row.container_id].append(row)
    result: dict[int, tuple[Decimal, Decimal]] = {}
    for container in containers:
        own = by_container.get(container.pk, [])
        if not own:
            continue
        seq_by_pk = {r.pk: r.seq for r in own}
        state = LedgerState()
        for row in own:
            state = apply(state, entry_to_pure(row, container, seq_by_pk), today=None)
        current = state.containers[str(container.pk)]
        result[container.pk] = (current.in_container_ml, current.on_hand_ml)
    return result


def dispensing_record(
    *, acting_user: Any, location: RegisteredLocation, start: date, end: date
) -> DispensingRecord:
    """Every receipt, administration and other disposal of a location in [start, end]
    (clinic-local dates), with the totals and the balances at the end of the period."""
    require(acting_user, "ledger.report")
    begin, finish = _bounds(start, end)
    containers = list(
        Container.objects.filter(location=location).select_related("receipt").order_by("pk")
    )
    by_pk = {c.pk: c for c in containers}
    rows = list(
        LedgerEntry.objects.filter(container__location=location, at__lt=finish)
        .select_related(
            "actor", "witness", "second_witness", "session__course__patient", "corrects"
        )
        .order_by("seq")
    )
    record = DispensingRecord(location=location, start=start, end=end)
    seen_products: set[tuple[str, str, Decimal, str]] = set()
    for container in containers:
        key = (
            container.receipt.product_name,
            _finished_form(container),
            container.nominal_ml,
            container.ndc,
        )
        if key not in seen_products:
            seen_products.add(key)
            record.products.append(ProductLine(*key))
    totals = dict.fromkeys(BUCKETS, ZERO)
    patients: dict[Any, None] = {}
    receipts_seen: set[int] = set()
    for row in rows:
        if row.at < begin:
            continue
        container = by_pk[row.container_id]
        day = timezone.localtime(row.at).date()
        kind = row.kind
        ml = Decimal(row.ml)
        note = ""
        if kind == EntryKind.CORRECTION:
            assert row.corrects is not None
            kind = row.corrects.kind
            note = f"correction of {entry_ref(row.corrects.seq)}: {row.reason}"
        if kind == EntryKind.RECEIPT:
            totals["received"] += ml
            receipt = container.receipt
            if receipt.pk not in receipts_seen and not note:
                receipts_seen.add(receipt.pk)
                record.receipts.append(
                    ReceiptLine(
                        date=timezone.localtime(receipt.received_at).date(),
                        product_name=receipt.product_name,
                        finished_form=_finished_form(container),
                        container_ml=container.nominal_ml,
                        ndc=receipt.ndc,
                        lot=receipt.lot,
                        containers=receipt.containers_count,
                        quantity_ml=receipt.container_volume_ml * receipt.containers_count,
                        supplier_name=receipt.supplier_name,
                        supplier_address=receipt.supplier_address,
                        supplier_dea_number=receipt.supplier_dea_number,
                        reference=receipt.reference,
                        received_by=_user_name(row.actor),
                    )
                )
        elif kind == EntryKind.ADMINISTRATION:
            totals["administered"] += ml
            patient = row.session.course.patient if row.session else None
            if patient is not None:
                patients[patient.pk] = None
            record.administrations.append(
                AdministrationLine(
                    date=day,
                    entry=entry_ref(row.seq),
                    container=container.pk,
                    lot=container.lot,
                    patient_name=patient.display_name if patient else "",
                    patient_address=patient.address if patient else "",
                    quantity_ml=ml,
                    quantity_mg=ml * container.mg_per_ml,
                    administered_by=_user_name(row.actor),
                    note=note,
                )
            )
        elif kind in DISPOSAL_KINDS:
            totals[DISPOSAL_KINDS[EntryKind(kind)]] += ml
            witnesses = ", ".join(
                _user_name(w) for w in (row.witness, row.second_witness) if w is not None
            )
            manner = EntryKind(kind).label
            if row.method:
                manner = f"{manner}: {row.method}"
            record.disposals.append(
                DisposalLine(
                    date=day,
                    entry=entry_ref(row.seq),
                    container=container.pk,
                    lot=container.lot,
                    manner=manner,
                    quantity_ml=ml,
                    quantity_mg=ml * container.mg_per_ml,
                    by=_user_name(row.actor),
                    witnesses=witnesses,
                    note=note or row.reason,
                )
            )
    record.totals_ml = totals
    opening = _on_hand_at(containers, rows, begin)
    closing = _on_hand_at(containers, rows, finish)
    record.opening_on_hand_ml = sum((v[1] for v in opening.values()), ZERO)
    record.closing_on_hand_ml = sum((v[1] for v in closing.values()), ZERO)
    record.closing_balances_ml = {pk: v[0] for pk, v in closing.items()}
    with transaction.atomic():
        audit_record_many(
            actor=acting_user,
            action=Action.READ,
            targets=[AuditTarget("DispensingRecord", str(location.pk), None)]
            + [AuditTarget("Patient", str(pk), pk) for pk in patients],
        )
    return record


# --- CSV and PDF -----------------------------------------------------------------------------

CSV_COLUMNS = [
    "section",
    "date",
    "entry",
    "substance",
    "product",
    "finished_form",
    "container_ml",
    "ndc",
    "lot",
    "containers",
    "supplier_name",
    "supplier_address",
    "supplier_dea_number",
    "reference",
    "patient_name",
    "patient_address",
    "quantity_ml",
    "quantity_mg",
    "by",
    "manner",
    "witnesses",
    "note",
]


def _n(value: Decimal) -> str:
    return f"{value.normalize():f}" if value != ZERO else "0"


def dispensing_csv(record: DispensingRecord) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="raise")
    writer.writeheader()
    blank = dict.fromkeys(CSV_COLUMNS, "")
    for p in record.products:
        writer.writerow(
            blank
            | {
                "section": "product",
                "substance": record.substance,
                "product": p.product_name,
                "finished_form": p.finished_form,
                "container_ml": _n(p.container_ml),
                "ndc": p.ndc,
            }
        )
    for r in record.receipts:
        writer.writerow(
            blank
            | {
                "section": "receipt",
                "date": r.date.isoformat(),
                "substance": record.substance,
                "product": r.product_name,
                "finished_form": r.finished_form,
                "container_ml": _n(r.container_ml),
                "ndc": r.ndc,
                "lot": r.lot,
                "containers": str(r.containers),
                "supplier_name": r.supplier_name,
                "supplier_address": r.supplier_address,
                "supplier_dea_number": r.supplier_dea_number,
                "reference": r.reference,
                "quantity_ml": _n(r.quantity_ml),
                "by": r.received_by,
            }
        )
    for a in record.administrations:
        writer.writerow(
            blank
            | {
                "section": "administration",
                "date": a.date.isoformat(),
                "entry": a.entry,
                "substance": record.substance,
                "lot": a.lot,
                "patient_name": a.patient_name,
                "patient_address": a.patient_address,
                "quantity_ml": _n(a.quantity_ml),
                "quantity_mg": _n(a.quantity_mg),
                "by": a.administered_by,
                "note": a.note,
            }
        )
    for d in record.disposals:
        writer.writerow(
            blank
            | {
                "section": "disposal",
                "date": d.date.isoformat(),
                "entry": d.entry,
                "substance": record.substance,
                "lot": d.lot,
                "quantity_ml": _n(d.quantity_ml),
                "quantity_mg": _n(d.quantity_mg),
                "by": d.by,
                "manner": d.manner,
                "witnesses": d.witnesses,
                "note": d.note,
            }
        )
    for bucket, value in record.totals_ml.items():
        writer.writerow(blank | {"section": "total", "manner": bucket, "quantity_ml": _n(value)})
    writer.writerow(
        blank
        | {
            "section": "total",
            "manner": "on hand at end",
            "quantity_ml": _n(record.closing_on_hand_ml),
        }
    )
    return out.getvalue()


def _latin1(text: str) -> str:
    """The PDF's core fonts are Latin-1: keep accents where they fit, drop what cannot."""
    if all(ord(c) < 256 for c in text):
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if ord(c) < 256 and not unicodedata.combining(c))


def dispensing_pdf(record: DispensingRecord) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_compression(False)  # plain text streams: searchable by simple tools and tests
    pdf.set_title("Dispensing record")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()

    def line(text: str, size: int = 9, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    loc = record.location
    line("Dispensing record (21 CFR 1304.22(c))", 14, bold=True)
    line(f"Registrant: {loc.registrant_name}, {loc.name}, {loc.address}")
    line(f"DEA registration: {loc.dea_number} (expires {loc.dea_expiry.isoformat()})")
    line(f"Period: {record.start.isoformat()} to {record.end.isoformat()}")
    line(f"Substance: {record.substance}")
    line("Products (finished form and container size)", 11, bold=True)
    for p in record.products:
        line(f"{p.product_name}; {p.finished_form}; {_n(p.container_ml)} mL container; NDC {p.ndc}")
    line("Receipts", 11, bold=True)
    for r in record.receipts:
        line(
            f"{r.date.isoformat()}: {r.containers} x {_n(r.container_ml)} mL {r.product_name} "
            f"({r.finished_form}), NDC {r.ndc}, lot {r.lot}; from {r.supplier_name}, "
            f"{r.supplier_address}, DEA {r.supplier_dea_number}; ref {r.reference}; "
            f"received by {r.received_by}"
        )
    line("Administrations", 11, bold=True)
    for a in record.administrations:
        line(
            f"{a.date.isoformat()} {a.entry}: {_n(a.quantity_ml)} mL ({_n(a.quantity_mg)} mg) "
            f"from container {a.container} lot {a.lot} to {a.patient_name}, "
            f"{a.patient_address}; administered by {a.administered_by}"
            + (f"; {a.note}" if a.note else "")
        )
    line("Other disposals", 11, bold=True)
    for d in record.disposals:
        line(
            f"{d.date.isoformat()} {d.entry}: {d.manner}; {_n(d.quantity_ml)} mL "
            f"({_n(d.quantity_mg)} mg) from container {d.container} lot {d.lot}; by {d.by}"
            + (f"; witnessed by {d.witnesses}" if d.witnesses else "")
            + (f"; {d.note}" if d.note else "")
        )
    line("Totals (mL)", 11, bold=True)
    line(f"On hand at the start: {_n(record.opening_on_hand_ml)}")
    for bucket, value in record.totals_ml.items():
        line(f"{bucket}: {_n(value)}")
    line(f"On hand at the end: {_n(record.closing_on_hand_ml)}")
    return bytes(pdf.output())


# --- reconciliation --------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionReconciliation:
    session: Session
    problems: list[str]


def reconciliation_report(
    *, acting_user: Any, start: date, end: date
) -> list[SessionReconciliation]:
    """Every session in [start, end] that drew from the ledger or charted a dose, whose chart
    and ledger disagree, with the reasons."""
    require(acting_user, "ledger.report")
    begin, finish = _bounds(start, end)
    session_ids = set(
        LedgerEntry.objects.filter(
            kind=EntryKind.DRAW, session__start__gte=begin, session__start__lt=finish
        ).values_list("session_id", flat=True)
    )
    field_names = {f.name for f in Session._meta.get_fields()}
    if "administered_mg" in field_names:
        session_ids |= set(
            # By name, so that type checkers accept it also before the chart has the field.
            Session.objects.filter(
                start__gte=begin, start__lt=finish, **{"administered_mg__gt": 0}
            ).values_list("pk", flat=True)
        )
    sessions = Session.objects.filter(pk__in=session_ids).select_related("course").order_by("start")
    result = []
    for session in sessions:
        problems = session_ledger_problems(session)
        if problems:
            result.append(SessionReconciliation(session, problems))
    return result


def dispensing_json(record: DispensingRecord) -> dict[str, Any]:
    """The record as JSON-ready data (dates as ISO text, quantities as decimal text)."""
    from dataclasses import asdict

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, Decimal):
            return _n(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    loc = record.location
    return {
        "registrant": {
            "name": loc.registrant_name,
            "location": loc.name,
            "address": loc.address,
            "dea_number": loc.dea_number,
            "dea_expiry": loc.dea_expiry.isoformat(),
        },
        "start": record.start.isoformat(),
        "end": record.end.isoformat(),
        "substance": record.substance,
        "products": plain([asdict(p) for p in record.products]),
        "receipts": plain([asdict(r) for r in record.receipts]),
        "administrations": plain([asdict(a) for a in record.administrations]),
        "disposals": plain([asdict(d) for d in record.disposals]),
        "totals_ml": plain(record.totals_ml),
        "opening_on_hand_ml": _n(record.opening_on_hand_ml),
        "closing_on_hand_ml": _n(record.closing_on_hand_ml),
        "closing_balances_ml": plain(record.closing_balances_ml),
        "totals_add_up": record.totals_add_up,
    }
