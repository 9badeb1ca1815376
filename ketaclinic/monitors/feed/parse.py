"""An ORU^R01 from a bedside monitor, read into readings for the chart.

Segments and fields split as python-hl7 splits them (`segments.py`: its tree of containers
cost most of the listener's CPU), escape sequences undone by python-hl7; what is around it
works around what monitors and that library get wrong (interop.md section 4):
- bytes are decoded as UTF-8, else Latin-1, never ASCII (python-hl7 #54 hangs or fails on
  non-ASCII with its ascii default);
- segments separated by <LF> or <CR><LF> are read as <CR>;
- fields a segment does not have read as empty (python-hl7 raises IndexError).
Pure: no Django, no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from ketaclinic.monitors.feed.codes import CodeBook, CodeEntry, default_code_book
from ketaclinic.monitors.feed.segments import Unescaper, delimiters, split_segments

ACCEPTED_STATUS = frozenset({"R", "F", "C", "P", "S", ""})
"""OBX-11 statuses whose value is a result (R result, F final, C corrected, P preliminary,
S partial). X "cannot be obtained", D deleted, W wrong, N not asked: no value."""

NUMERIC_TYPES = frozenset({"NM", "ST", "SN", ""})
"""OBX-2: NM as the standard says; ST (a number sent as a string) seen in public samples."""


class MessageRefused(Exception):
    """The message cannot be taken: answered with `ack_code` (AR or AE) and `reason`."""

    def __init__(self, reason: str, *, ack_code: str = "AR", error_code: str = "207") -> None:
        super().__init__(reason)
        self.reason = reason
        self.ack_code = ack_code
        self.error_code = error_code
        """HL7 table 0357: 100 segment sequence, 101 required field missing, 102 data type,
        200 unsupported message type, 201 unsupported event, 207 application error."""


@dataclass(frozen=True)
class Header:
    """MSH: who sent what, for routing and for addressing the ACK."""

    message_type: str = ""
    trigger: str = ""
    control_id: str = ""
    version: str = ""
    sending_application: str = ""
    sending_device: str = ""
    """MSH-3.2: GE puts the monitor's EUI-64 here."""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    processing_id: str = ""


class Reading(NamedTuple):
    """One chartable value (a named tuple: one is made per OBX on the listener's hot path,
    where a frozen dataclass's `__init__` cost more than the reading; issue 17)."""

    field: str
    value: str
    """As a decimal string, exactly as computed (whole numbers for the chart's fields)."""
    at: str
    """ISO 8601, UTC."""
    system: str
    code: str
    name: str
    unit: str
    kind: str
    channel: str
    obx: int
    note: str = ""


class Ignored(NamedTuple):
    obx: int
    code: str
    reason: str


PARSE_FORMAT = 2
"""The stored parse result's format (`ParsedMessage.as_json`). 1 (until 2026-12-03): each
reading and ignored row an object with its names; 2: the names once (`reading_fields`,
`ignored_fields`), each row an array in that order (a third of the size; issue 17)."""


@dataclass(frozen=True)
class ParsedMessage:
    header: Header
    observed_at: str
    """OBR-7 (else MSH-7), ISO 8601 UTC."""
    device_ids: tuple[str, ...]
    """Candidates for the registered device, most specific first: OBX-18 ids, MSH-3.2."""
    readings: tuple[Reading, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    alarms: tuple[str, ...] = ()
    skipped: str = ""
    """Why nothing in the message is charted (a waveform message), else empty."""
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """The parse result as stored beside the raw message (format `PARSE_FORMAT`): the
        header by name, readings and ignored rows as arrays under their field names (given
        once). `parsed_from_json` reads it back."""
        return {
            "format": PARSE_FORMAT,
            "header": dict(vars(self.header)),
            "observed_at": self.observed_at,
            "device_ids": self.device_ids,
            "reading_fields": Reading._fields,
            "readings": self.readings,
            "ignored_fields": Ignored._fields,
            "ignored": self.ignored,
            "alarms": self.alarms,
            "skipped": self.skipped,
            "notes": self.notes,
        }


def parsed_from_json(data: dict[str, Any]) -> ParsedMessage:
    """A stored parse result (`ParsedMessage.as_json`, either format) as it was parsed."""

    def rows(kind: type[Any], key: str, names_key: str) -> tuple[Any, ...]:
        names = data.get(names_key) or kind._fields
        return tuple(
            kind(**row) if isinstance(row, dict) else kind(**dict(zip(names, row, strict=True)))
            for row in data.get(key, ())
        )

    return ParsedMessage(
        header=Header(**data["header"]),
        observed_at=data["observed_at"],
        device_ids=tuple(data["device_ids"]),
        readings=rows(Reading, "readings", "reading_fields"),
        ignored=rows(Ignored, "ignored", "ignored_fields"),
        alarms=tuple(data["alarms"]),
        skipped=data["skipped"],
        notes=tuple(data["notes"]),
    )


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8, else Latin-1 (never ASCII)."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def normalise(text: str) -> str:
    """Segments separated by <CR> only; blank lines and surrounding whitespace dropped."""
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    return "\r".join(line for line in (ln.strip("\x00 ") for ln in lines) if line)


Segment = list[str]
"""A segment's fields as text, `[id, field 1, ...]` (`segments.split_segments`)."""


def _field(segment: Segment, index: int) -> str:
    return segment[index] if index < len(segment) else ""


def _components(value: str, separators: str) -> list[str]:
    """The first repetition of a field, split into components."""
    first = value.split(separators[2])[0] if len(separators) > 2 else value
    return first.split(separators[3] if len(separators) > 3 else "^")


def _component(value: str, separators: str, index: int) -> str:
    parts = _components(value, separators)
    return parts[index] if index < len(parts) else ""


@functools.lru_cache(maxsize=1024)
def parse_time(value: str, default_tz: tzinfo) -> datetime | None:
    """HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]) as an aware datetime; without an
    offset, in `default_tz` (the clinic's zone: monitors send local time). Cached: a
    message carries the same time in most of its OBX rows."""
    text = value.strip()
    if not text:
        return None
    offset: tzinfo | None = None
    for sign in ("+", "-"):
        if sign in text[4:]:
            body, zone = text.rsplit(sign, 1)
            if len(zone) != 4 or not zone.isdigit():
                return None
            minutes = int(zone[:2]) * 60 + int(zone[2:])
            offset = timezone(timedelta(minutes=minutes if sign == "+" else -minutes))
            text = body
            break
    text = text.split(".")[0]
    if not text.isdigit() or len(text) < 8:
        return None
    text = text.ljust(14, "0")
    try:  # by hand: strptime is slow on the listener's hot path
        moment = datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            tzinfo=offset or default_tz,
        )
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _header(segment: Segment, separators: str) -> Header:
    msh9 = _field(segment, 9)
    msh3 = _field(segment, 3)
    return Header(
        message_type=_component(msh9, separators, 0),
        trigger=_component(msh9, separators, 1),
        control_id=_field(segment, 10),
        version=_component(_field(segment, 12), separators, 0),
        sending_application=_component(msh3, separators, 0),
        sending_device=_component(msh3, separators, 1),
        sending_facility=_component(_field(segment, 4), separators, 0),
        receiving_application=_component(_field(segment, 5), separators, 0),
        receiving_facility=_component(_field(segment, 6), separators, 0),
        processing_id=_component(_field(segment, 11), separators, 0),
    )


def header_fallback(text: str) -> Header:
    """The MSH read by hand, for addressing a refusal when the library could not parse."""
    first = normalise(text).split("\r")[0]
    if not first.startswith("MSH") or len(first) < 8:
        return Header()
    bar, separators = first[3], _separators(first)
    fields = ["MSH", bar, *first[4:].split(bar)]
    return Header(
        message_type=_component(fields[9] if len(fields) > 9 else "", separators, 0),
        trigger=_component(fields[9] if len(fields) > 9 else "", separators, 1),
        control_id=fields[10] if len(fields) > 10 else "",
        sending_application=_component(fields[3] if len(fields) > 3 else "", separators, 0),
        sending_facility=_component(fields[4] if len(fields) > 4 else "", separators, 0),
    )


def parse_message(
    raw: bytes, *, default_tz: tzinfo = UTC, book: CodeBook | None = None
) -> ParsedMessage:
    """Read one framed payload. Raises `MessageRefused` (AR) for what is not an HL7 message
    we take; a waveform message comes back `skipped`; each OBX becomes a reading or an
    ignored row with its reason."""
    book = book or default_code_book()
    text, _encoding = decode(raw)
    text = normalise(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise MessageRefused("not an HL7 v2 message: it does not start with MSH", error_code="100")
    delims = delimiters(text)
    rows = split_segments(text, delims.field)
    msh = rows[0]
    separators = _separators(text)
    header = _header(msh, separators)
    if not header.control_id:
        raise MessageRefused("MSH-10 (message control id) is empty", error_code="101")
    if header.message_type != "ORU":
        raise MessageRefused(
            f"message type {header.message_type}^{header.trigger} is not taken (ORU^R01 only)",
            error_code="200",
        )
    sent_at = parse_time(_field(msh, 7), default_tz)
    obr = _segments(rows, "OBR")
    obr_time = parse_time(_field(obr[0], 7), default_tz) if obr else None
    observed = obr_time or sent_at
    if observed is None:
        raise MessageRefused(
            "no observation time (OBR-7) nor message time (MSH-7)", error_code="101"
        )
    obx_rows = _segments(rows, "OBX")
    device_ids = _device_ids(header, obx_rows, separators)
    if header.trigger == "W01":
        return ParsedMessage(
            header=header,
            observed_at=observed.isoformat(),
            device_ids=device_ids,
            skipped="ORU^W01 waveform message: not charted",
        )
    if header.trigger != "R01":
        raise MessageRefused(f"event ORU^{header.trigger} is not taken", error_code="201")
    readings: list[Reading] = []
    ignored: list[Ignored] = []
    alarms: list[str] = []
    unescape = Unescaper(delims)
    observed_iso = observed.isoformat()
    for position, obx in enumerate(obx_rows, start=1):
        _read_obx(
            obx,
            position=position,
            separators=separators,
            unescape=unescape,
            observed_iso=observed_iso,
            default_tz=default_tz,
            book=book,
            out=(readings, ignored, alarms),
        )
    return ParsedMessage(
        header=header,
        observed_at=observed_iso,
        device_ids=device_ids,
        readings=tuple(readings),
        ignored=tuple(ignored),
        alarms=tuple(alarms),
    )


def _separators(text: str) -> str:
    """Field, escape, repetition, component, sub-component characters, as MSH-1 and MSH-2
    declare them (MSH-2 is component, repetition, escape, sub-component)."""
    enc = (text[4:8] + "^~\\&"[len(text[4:8]) :])[:4]
    component, repetition, escape, sub = enc[0], enc[1], enc[2], enc[3]
    return text[3] + escape + repetition + component + sub


def _segments(rows: list[Segment], name: str) -> list[Segment]:
    return [row for row in rows if row[0] == name]


def _device_ids(header: Header, obx_rows: Sequence[Segment], separators: str) -> tuple[str, ...]:
    ids: list[str] = []
    for obx in obx_rows:
        obx18 = _components(_field(obx, 18), separators)
        for value in (obx18[0], obx18[2] if len(obx18) > 2 else ""):
            if value and value not in ids:
                ids.append(value)
    for value in (header.sending_device, header.sending_application):
        if value and value not in ids:
            ids.append(value)
    return tuple(ids)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _entry_for(book: CodeBook, system: str, code: str, path: str) -> tuple[CodeEntry | None, str]:
    guessed = system or ("MDIL" if "-" in code else "MDC")
    entry = book.lookup(guessed, code)
    if entry is not None:
        return entry, ""
    tail = path.rsplit(".", 1)[-1] if path else ""
    if tail and tail != code:
        entry = book.lookup(guessed, tail)
        if entry is not None:
            return entry, f"OBX-3 {code} is not a known code; taken from OBX-4 ({path})"
    return None, ""


OBX_FIELDS = 19
"""An OBX's fields read here go up to OBX-18 (`[id, field 1, ... field 18]`)."""


def _read_obx(
    obx: Segment,
    *,
    position: int,
    separators: str,
    unescape: Unescaper,
    observed_iso: str,
    default_tz: tzinfo,
    book: CodeBook,
    out: tuple[list[Reading], list[Ignored], list[str]],
) -> None:
    readings, ignored, alarms = out
    if len(obx) < OBX_FIELDS:  # fields a segment does not have read as empty
        obx = obx + [""] * (OBX_FIELDS - len(obx))
    obx3 = [*_components(obx[3], separators), "", ""]
    code, name, system = obx3[0].strip(), obx3[1].strip(), obx3[2].strip().upper()
    value_type = obx[2].strip().upper()
    value_text = unescape(obx[5]).strip()
    status = obx[11].strip().upper()
    label = code or f"OBX {position}"
    if system.endswith("-ALERT") or (value_type == "TX" and system.startswith("MDIL")):
        alarms.append(f"{name or code}: {value_text}".strip())
        return
    if status not in ACCEPTED_STATUS:
        ignored.append(Ignored(position, label, f"status {status}: no value measured"))
        return
    entry, note = _entry_for(book, system, code, obx[4].strip())
    if entry is None:
        ignored.append(Ignored(position, label, "code not in the code book"))
        return
    if not entry.field:
        ignored.append(Ignored(position, label, f"{entry.name} is not a chart field"))
        return
    if value_type not in NUMERIC_TYPES:
        ignored.append(Ignored(position, label, f"value type {value_type} is not a number"))
        return
    if not value_text:
        ignored.append(Ignored(position, label, "no value"))
        return
    # A whole number in plain digits (nearly every monitor value) stays an int: exact, and
    # no Decimal work on the listener's hot path; anything else is read as a Decimal.
    plain = value_text.isascii() and value_text.isdigit()
    value: Decimal | int | None = int(value_text) if plain else _number(value_text)
    if value is None:
        ignored.append(Ignored(position, label, f"value {value_text[:20]!r} is not a number"))
        return
    if value in book.no_value:  # an int equals (and hashes as) the same Decimal
        ignored.append(Ignored(position, label, f"{value_text} is a 'no value' sentinel"))
        return
    obx6 = [*_components(obx[6], separators), ""]
    sent_units = (obx6[0].strip(), obx6[1].strip())
    unit = book.unit_accepted(entry, sent_units)
    if unit is None:
        shown = "/".join(u for u in sent_units if u) or "none"
        ignored.append(Ignored(position, label, f"unit {shown} not accepted for {entry.name}"))
        return
    if isinstance(value, int) and (unit.convert or entry.field in book.tenths_fields):
        value = Decimal(value)
    if isinstance(value, Decimal):
        if unit.convert == "f_to_c":
            value = ((value - 32) * 5 / 9).quantize(Decimal("0.01"))
            note = "; ".join(n for n in (note, "converted from degF") if n)
        if entry.field in book.tenths_fields and not book.tenths_low <= value <= book.tenths_high:
            scaled = value / 10
            if book.tenths_low <= scaled <= book.tenths_high:
                value = scaled
                note = "; ".join(n for n in (note, "sent in tenths of a degree") if n)
        if entry.field != "temperature_c":
            value = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    obx14 = obx[14]
    at = _time_iso(obx14, default_tz) if obx14 else None
    readings.append(
        Reading(
            entry.field,
            str(value),
            at or observed_iso,
            entry.system,
            entry.code,
            entry.name,
            sent_units[0] or sent_units[1],
            entry.kind,
            entry.channel,
            position,
            note,
        )
    )


@functools.lru_cache(maxsize=1024)
def _time_iso(value: str, default_tz: tzinfo) -> str | None:
    """`parse_time` as ISO 8601 text (cached: most OBX rows of a message share a time)."""
    moment = parse_time(value, default_tz)
    return moment.isoformat() if moment is not None else None
