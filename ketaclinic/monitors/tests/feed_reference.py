"""The feed's reading as it was before issue 17's fast paths (main at 997e299), kept as the
reference the fast code is proven equal to (`test_feed_fast.py`). Only what was rewritten is
here (normalise, the split, the header, the OBX rows, the device ids, the chart sets); it
builds the same public types (`Header`, `Reading`, `Ignored`, `ParsedMessage`, `VitalsSet`),
so results compare with `==`. Two changes from that commit: `header_fallback` reads MSH-2
through `_separators` (it passed MSH-2 in the wrong order; fixed with its test), and
`_separators` stops MSH-2 at the field separator (it read four characters whatever came: an
empty MSH-2 gave "|" as the component separator; fixed in both, with its test)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ketaclinic.monitors.feed.codes import CodeBook, CodeEntry, default_code_book
from ketaclinic.monitors.feed.parse import (
    ACCEPTED_STATUS,
    NUMERIC_TYPES,
    OBX_FIELDS,
    Header,
    Ignored,
    MessageRefused,
    ParsedMessage,
    Reading,
    decode,
    parse_time,
)
from ketaclinic.monitors.feed.segments import DEFAULT_ENCODING, Delimiters, Unescaper
from ketaclinic.monitors.feed.vitals import CHART_FIELDS, NIBP_FIELDS, VitalsSet

Segment = list[str]


def delimiters(msh: str) -> Delimiters:
    bar = msh[3]
    end = msh.find(bar, 4)
    declared = msh[4:end] if end >= 0 else msh[4:]
    chars = declared + DEFAULT_ENCODING[len(declared) :]
    return Delimiters(
        field=bar, component=chars[0], repetition=chars[1], escape=chars[2], subcomponent=chars[3]
    )


def split_segments(text: str, bar: str) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in text.split("\r"):
        if not line:
            continue
        if line.startswith("MSH"):
            rows.append(["MSH", bar, *line[4:].split(bar)])
        else:
            rows.append(line.split(bar))
    return rows


def normalise(text: str) -> str:
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    return "\r".join(line for line in (ln.strip("\x00 ") for ln in lines) if line)


def _field(segment: Segment, index: int) -> str:
    return segment[index] if index < len(segment) else ""


def _components(value: str, separators: str) -> list[str]:
    first = value.split(separators[2])[0] if len(separators) > 2 else value
    return first.split(separators[3] if len(separators) > 3 else "^")


def _component(value: str, separators: str, index: int) -> str:
    parts = _components(value, separators)
    return parts[index] if index < len(parts) else ""


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
    declared = text[4:8].split(text[3], 1)[0]
    enc = declared + "^~\\&"[len(declared) :]
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
    if len(obx) < OBX_FIELDS:
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
    plain = value_text.isascii() and value_text.isdigit()
    value: Decimal | int | None = int(value_text) if plain else _number(value_text)
    if value is None:
        ignored.append(Ignored(position, label, f"value {value_text[:20]!r} is not a number"))
        return
    if value in book.no_value:
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


def _time_iso(value: str, default_tz: tzinfo) -> str | None:
    moment = parse_time(value, default_tz)
    return moment.isoformat() if moment is not None else None


# --- the chart sets (vitals.py) --------------------------------------------------------


def _rank(reading: Reading, heart_rate_order: dict[str, int]) -> tuple[int, int]:
    if reading.field == "heart_rate_bpm":
        return heart_rate_order.get(reading.channel, len(heart_rate_order)), reading.obx
    return 0, reading.obx


def vitals_sets(parsed: ParsedMessage, book: CodeBook | None = None) -> list[VitalsSet]:
    if parsed.skipped:
        return []
    book = book or default_code_book()
    order = {channel: i for i, channel in enumerate(book.heart_rate_priority)}
    chosen: dict[str, Reading] = {}
    for reading in parsed.readings:
        name = reading.field
        if name not in CHART_FIELDS:
            continue
        kept = chosen.get(name)
        if kept is None or _rank(reading, order) < _rank(kept, order):
            chosen[name] = reading
    if not chosen:
        return []
    observed = datetime.fromisoformat(parsed.observed_at)
    periodic_set = {n: r for n, r in chosen.items() if n not in NIBP_FIELDS}
    cuff_set = {n: r for n, r in chosen.items() if n in NIBP_FIELDS}
    cuff_at = min((datetime.fromisoformat(r.at) for r in cuff_set.values()), default=None)
    if cuff_at is not None and cuff_at == observed:
        periodic_set.update(cuff_set)
        cuff_set = {}
    sets: list[VitalsSet] = []
    if periodic_set:
        kind = "periodic+nibp" if any(n in NIBP_FIELDS for n in periodic_set) else "periodic"
        sets.append(_set(observed, kind, periodic_set, parsed.header.control_id))
    if cuff_set and cuff_at is not None:
        sets.append(_set(cuff_at, "nibp", cuff_set, f"nibp:{cuff_at:%Y%m%dT%H%M%S}"))
    return sets


def _set(at: datetime, kind: str, rows: dict[str, Reading], key: str) -> VitalsSet:
    ordered = sorted(rows.items())
    return VitalsSet(
        at=at,
        kind=kind,
        values={n: int(r.value) for n, r in ordered},
        key=key,
        codes=tuple(f"{r.system}:{r.code}" for _, r in ordered),
    )
