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
from ketaclinic.monitors.feed.segments import Delimiters, Unescaper, delimiters, split_segments

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
    """Segments separated by <CR> only; blank lines and surrounding whitespace dropped.
    A text already so (what monitors send: no <LF>, NUL, blank segment nor space at a
    segment's ends) is returned as it is, less its last <CR>, without splitting it into
    lines (issue 17; proven equal to the general way in test_feed_fast.py)."""
    body = text[:-1] if text.endswith("\r") else text
    if (
        body
        and body[0] not in " \r"
        and body[-1] not in " \r"
        and "\n" not in body
        and "\x00" not in body
        and "\r\r" not in body
        and " \r" not in body
        and "\r " not in body
    ):
        return body
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    return "\r".join(line for line in (ln.strip("\x00 ") for ln in lines) if line)


Segment = list[str]
"""A segment's fields as text, `[id, field 1, ...]` (`segments.split_segments`)."""


def _field(segment: Segment, index: int) -> str:
    return segment[index] if index < len(segment) else ""


def _components(value: str, separators: str) -> list[str]:
    """The first repetition of a field, split into components (`separators` as
    `_separators` gives them)."""
    repetition = separators[2]
    if repetition in value:
        value = value.split(repetition, 1)[0]
    return value.split(separators[3])


def _component(value: str, separators: str, index: int) -> str:
    parts = _components(value, separators)
    return parts[index] if index < len(parts) else ""


def _first(value: str, repetition: str, component: str) -> str:
    """The first component of the first repetition (`_component(value, separators, 0)`)."""
    if repetition in value:
        value = value.split(repetition, 1)[0]
    if component in value:
        value = value.split(component, 1)[0]
    return value


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


MSH_FIELDS = 13
"""The MSH fields read here go up to MSH-12 (`[id, field 1, ... field 12]`)."""


def _header(segment: Segment, separators: str) -> Header:
    if len(segment) < MSH_FIELDS:  # fields a segment does not have read as empty
        segment = segment + [""] * (MSH_FIELDS - len(segment))
    repetition, component = separators[2], separators[3]
    msh9 = [*_components(segment[9], separators), ""]
    msh3 = [*_components(segment[3], separators), ""]
    return Header(
        msh9[0],  # message type
        msh9[1],  # trigger
        segment[10],  # control id
        _first(segment[12], repetition, component),  # version
        msh3[0],  # sending application
        msh3[1],  # sending device
        _first(segment[4], repetition, component),  # sending facility
        _first(segment[5], repetition, component),  # receiving application
        _first(segment[6], repetition, component),  # receiving facility
        _first(segment[11], repetition, component),  # processing id
    )


def header_fallback(text: str) -> Header:
    """The MSH read by hand, for addressing a refusal when the library could not parse."""
    first = normalise(text).split("\r")[0]
    if not first.startswith("MSH") or len(first) < 8:
        return Header()
    bar, separators = first[3], _separators(delimiters(first))
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
    separators = _separators(delims)
    header = _header(msh, separators)
    if not header.control_id:
        raise MessageRefused("MSH-10 (message control id) is empty", error_code="101")
    if header.message_type != "ORU":
        raise MessageRefused(
            f"message type {header.message_type}^{header.trigger} is not taken (ORU^R01 only)",
            error_code="200",
        )
    sent_at = _time_iso(_field(msh, 7), default_tz)
    obr = _segments(rows, "OBR")
    obr_time = _time_iso(_field(obr[0], 7), default_tz) if obr else None
    observed_iso = obr_time or sent_at
    if observed_iso is None:
        raise MessageRefused(
            "no observation time (OBR-7) nor message time (MSH-7)", error_code="101"
        )
    obx_rows = _segments(rows, "OBX")
    device_ids = _device_ids(header, obx_rows, separators)
    if header.trigger == "W01":
        return ParsedMessage(
            header=header,
            observed_at=observed_iso,
            device_ids=device_ids,
            skipped="ORU^W01 waveform message: not charted",
        )
    if header.trigger != "R01":
        raise MessageRefused(f"event ORU^{header.trigger} is not taken", error_code="201")
    readings, ignored, alarms = _read_rows(
        obx_rows, separators, delims, observed_iso, default_tz, book
    )
    return ParsedMessage(
        header=header,
        observed_at=observed_iso,
        device_ids=device_ids,
        readings=tuple(readings),
        ignored=tuple(ignored),
        alarms=tuple(alarms),
    )


def _separators(delims: Delimiters) -> str:
    """Field, escape, repetition, component, sub-component characters in one string, from
    MSH-1 and MSH-2 as `segments.delimiters` reads them: one reading for the field split and
    for the fields' components (a second reading of its own, of four characters whatever
    came, took "|" as the component separator of an empty MSH-2, and refused the message)."""
    return delims.field + delims.escape + delims.repetition + delims.component + delims.subcomponent


def _segments(rows: list[Segment], name: str) -> list[Segment]:
    return [row for row in rows if row[0] == name]


def _device_ids(header: Header, obx_rows: Sequence[Segment], separators: str) -> tuple[str, ...]:
    ids: list[str] = []
    # Each OBX-18 once, in order: a monitor puts the same ids in every row (issue 17); a
    # row without one has no id to give.
    for obx18 in dict.fromkeys([obx[18] for obx in obx_rows if len(obx) > 18]):
        parts = _components(obx18, separators)
        for value in (parts[0], parts[2] if len(parts) > 2 else ""):
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

ROW_PLANS_MAX = 1024
ROW_PLAN_TEXT_MAX = 512
"""A book keeps at most ROW_PLANS_MAX planned rows, each by at most ROW_PLAN_TEXT_MAX
characters of fields (what a sender puts there is not ours to keep at any size)."""

_ALARM, _IGNORE, _READ = 0, 1, 2


class _RowPlan(NamedTuple):
    """What an OBX's value type (OBX-2), code (OBX-3, OBX-4), units (OBX-6) and status
    (OBX-11) decide before its value is read: the checks on them come before the checks on
    the value, except the unit's (`refusal`), made after them."""

    verdict: int
    label: str
    """OBX-3.1 as read: the row's label (else "OBX n")."""
    text: str = ""
    """_ALARM: the alarm's name (else its code); _IGNORE: the reason."""
    entry: CodeEntry = CodeEntry("", "", "", "", "", "", "", "")
    note: str = ""
    refusal: str = ""
    """Why the unit is not accepted, else ""."""
    unit_text: str = ""
    convert: str = ""
    decimal: bool = False
    """A whole number is read as a Decimal (a conversion or the tenths quirk may apply)."""


def _row_plan(book: CodeBook, key: tuple[str, ...]) -> _RowPlan:
    separators, value_type_text, obx3_text, obx4, obx6_text, status_text = key
    obx3 = [*_components(obx3_text, separators), "", ""]
    code, name, system = obx3[0].strip(), obx3[1].strip(), obx3[2].strip().upper()
    value_type = value_type_text.strip().upper()
    status = status_text.strip().upper()
    if system.endswith("-ALERT") or (value_type == "TX" and system.startswith("MDIL")):
        return _RowPlan(_ALARM, code, name or code)
    if status not in ACCEPTED_STATUS:
        return _RowPlan(_IGNORE, code, f"status {status}: no value measured")
    entry, note = _entry_for(book, system, code, obx4.strip())
    if entry is None:
        return _RowPlan(_IGNORE, code, "code not in the code book")
    if not entry.field:
        return _RowPlan(_IGNORE, code, f"{entry.name} is not a chart field")
    if value_type not in NUMERIC_TYPES:
        return _RowPlan(_IGNORE, code, f"value type {value_type} is not a number")
    obx6 = [*_components(obx6_text, separators), ""]
    sent_units = (obx6[0].strip(), obx6[1].strip())
    unit = book.unit_accepted(entry, sent_units)
    shown = "/".join(u for u in sent_units if u) or "none"
    convert = unit.convert if unit is not None else ""
    return _RowPlan(
        _READ,
        code,
        entry=entry,
        note=note,
        refusal="" if unit is not None else f"unit {shown} not accepted for {entry.name}",
        unit_text=sent_units[0] or sent_units[1],
        convert=convert,
        decimal=bool(convert or entry.field in book.tenths_fields),
    )


_new_tuple = tuple.__new__


def _read_rows(
    obx_rows: list[Segment],
    separators: str,
    delims: Delimiters,
    observed_iso: str,
    default_tz: tzinfo,
    book: CodeBook,
) -> tuple[list[Reading], list[Ignored], list[str]]:
    """Each OBX as a reading, an ignored row with its reason, or an alarm's text. What its
    code, units and status decide is planned once per distinct row and kept on the book
    (`_row_plan`); only the value and the time are read in each message (issue 17)."""
    readings: list[Reading] = []
    ignored: list[Ignored] = []
    alarms: list[str] = []
    plans, no_value = book.row_plans, book.no_value
    escape = delims.escape
    unescape: Unescaper | None = None
    times: dict[str, str] = {}
    for position, obx in enumerate(obx_rows, start=1):
        if len(obx) < OBX_FIELDS:  # fields a segment does not have read as empty
            obx = obx + [""] * (OBX_FIELDS - len(obx))
        key = (separators, obx[2], obx[3], obx[4], obx[6], obx[11])
        plan: _RowPlan | None = plans.get(key)
        if plan is None:
            plan = _row_plan(book, key)
            if len(plans) < ROW_PLANS_MAX and sum(map(len, key)) <= ROW_PLAN_TEXT_MAX:
                plans[key] = plan
        if plan.verdict == _IGNORE:
            ignored.append(Ignored(position, plan.label or f"OBX {position}", plan.text))
            continue
        value_text = obx[5]
        if escape in value_text:
            unescape = unescape or Unescaper(delims)
            value_text = unescape(value_text)
        value_text = value_text.strip()
        if plan.verdict == _ALARM:
            alarms.append(f"{plan.text}: {value_text}".strip())
            continue
        # A whole number in plain digits (nearly every monitor value) stays an int: exact,
        # and no Decimal work; anything else is read as a Decimal.
        plain = value_text.isascii() and value_text.isdigit()
        number: Decimal | int | None = int(value_text) if plain else _number(value_text)
        if not value_text:
            why = "no value"
        elif number is None:
            why = f"value {value_text[:20]!r} is not a number"
        elif number in no_value:  # an int equals (and hashes as) the same Decimal
            why = f"{value_text} is a 'no value' sentinel"
        else:
            why = plan.refusal  # the unit's check, made after the value's
        if why or number is None:
            ignored.append(Ignored(position, plan.label or f"OBX {position}", why))
            continue
        note = plan.note
        if plain and not plan.decimal:
            value = str(number)
        else:
            value, note = _decimal_value(Decimal(number), plan, book)
        obx14 = obx[14]
        at = observed_iso
        if obx14:
            at = times.get(obx14) or ""
            if not at:
                at = times[obx14] = _time_iso(obx14, default_tz) or observed_iso
        entry = plan.entry
        readings.append(
            _new_tuple(  # Reading(...) without its __new__'s call: a NamedTuple is a tuple
                Reading,
                (
                    entry.field,
                    value,
                    at,
                    entry.system,
                    entry.code,
                    entry.name,
                    plan.unit_text,
                    entry.kind,
                    entry.channel,
                    position,
                    note,
                ),
            )
        )
    return readings, ignored, alarms


def _decimal_value(value: Decimal, plan: _RowPlan, book: CodeBook) -> tuple[str, str]:
    """A value read as a Decimal: its text and the reading's note (the conversion from degF,
    the tenths quirk, whole numbers but for the temperature)."""
    field_name, note = plan.entry.field, plan.note
    if plan.convert == "f_to_c":
        value = ((value - 32) * 5 / 9).quantize(Decimal("0.01"))
        note = "; ".join(n for n in (note, "converted from degF") if n)
    if field_name in book.tenths_fields and not book.tenths_low <= value <= book.tenths_high:
        scaled = value / 10
        if book.tenths_low <= scaled <= book.tenths_high:
            value = scaled
            note = "; ".join(n for n in (note, "sent in tenths of a degree") if n)
    if field_name != "temperature_c":
        value = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return str(value), note


@functools.lru_cache(maxsize=1024)
def _time_iso(value: str, default_tz: tzinfo) -> str | None:
    """`parse_time` as ISO 8601 text (cached: most OBX rows of a message share a time)."""
    moment = parse_time(value, default_tz)
    return moment.isoformat() if moment is not None else None
