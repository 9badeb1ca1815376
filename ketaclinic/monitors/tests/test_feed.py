"""The pure feed: MLLP framing, parsing both vendors' samples with every quirk in
interop.md section 4, the code book, grouping into chart sets, ACKs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import hl7
import pytest

from ketaclinic.monitors.feed import samples
from ketaclinic.monitors.feed.ack import build_ack, escape
from ketaclinic.monitors.feed.codes import code_book_from, default_code_book
from ketaclinic.monitors.feed.mllp import Frame, MllpDecoder, frame
from ketaclinic.monitors.feed.parse import (
    PARSE_FORMAT,
    Header,
    MessageRefused,
    Reading,
    decode,
    header_fallback,
    normalise,
    parse_message,
    parse_time,
    parsed_from_json,
)
from ketaclinic.monitors.feed.segments import delimiters, split_segments
from ketaclinic.monitors.feed.vitals import vitals_sets

NOW = datetime(2026, 12, 2, 10, 15, tzinfo=UTC)
CUFF = NOW - timedelta(minutes=3)


def _raw(
    name: str, *, hr: int = 72, spo2: int = 97, rr: int = 14, sys: int = 118, dia: int = 76
) -> bytes:
    text = samples.render(
        samples.SAMPLES[name],
        now=NOW,
        nibp=CUFF,
        control=f"{name}-1",
        hr=hr,
        spo2=spo2,
        rr=rr,
        sys=sys,
        dia=dia,
    )
    return text.encode("utf-8")


# --- MLLP framing ---------------------------------------------------------------------


def test_several_messages_on_one_connection_in_one_chunk() -> None:
    decoder = MllpDecoder()
    frames = decoder.feed(frame(b"MSH|one") + frame(b"MSH|two") + frame(b"MSH|three"))
    assert [f.payload for f in frames] == [b"MSH|one", b"MSH|two", b"MSH|three"]
    assert all(f.ok for f in frames)
    assert not decoder.in_frame


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_a_frame_split_anywhere_is_put_back_together(size: int) -> None:
    stream = frame(b"MSH|first\rOBX|1") + frame(b"MSH|second")
    decoder = MllpDecoder()
    frames: list[Frame] = []
    for i in range(0, len(stream), size):
        frames += decoder.feed(stream[i : i + size])
    assert [f.payload for f in frames] == [b"MSH|first\rOBX|1", b"MSH|second"]


def test_split_between_fs_and_cr_waits_for_the_cr() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(b"\x0bMSH|x\x1c") == []
    assert decoder.in_frame
    assert [f.payload for f in decoder.feed(b"\x0d")] == [b"MSH|x"]


def test_junk_between_frames_is_counted_and_dropped() -> None:
    decoder = MllpDecoder()
    frames = decoder.feed(b"\r\n" + frame(b"MSH|a") + b"\n" + frame(b"MSH|b"))
    assert [f.payload for f in frames] == [b"MSH|a", b"MSH|b"]
    assert decoder.junk_bytes == 3


def test_an_oversize_frame_is_refused_and_the_next_one_read() -> None:
    decoder = MllpDecoder(max_frame=100)
    big = frame(b"MSH|" + b"x" * 500)
    frames: list[Frame] = []
    for i in range(0, len(big), 64):  # arrives in pieces: never buffered whole
        frames += decoder.feed(big[i : i + 64])
        assert decoder.buffered <= 101
    frames += decoder.feed(frame(b"MSH|small"))
    assert [f.ok for f in frames] == [False, True]
    assert "longer than 100" in frames[0].error
    assert frames[1].payload == b"MSH|small"


def test_an_oversize_frame_in_one_chunk_is_refused() -> None:
    frames = MllpDecoder(max_frame=10).feed(frame(b"MSH|" + b"y" * 20) + frame(b"MSH|ok"))
    assert [f.ok for f in frames] == [False, True]


def test_a_frame_restarted_before_its_end_is_reported() -> None:
    frames = MllpDecoder().feed(b"\x0bMSH|cut off" + frame(b"MSH|again"))
    assert [(f.payload, f.ok) for f in frames] == [(b"MSH|cut off", False), (b"MSH|again", True)]


def test_framing_refuses_block_characters_inside_a_message() -> None:
    with pytest.raises(ValueError, match="block characters"):
        frame(b"MSH|\x1c")


# --- parsing both vendors -------------------------------------------------------------


def test_ge_periodic_message_maps_mdc_codes_with_the_nibp_at_its_own_time() -> None:
    parsed = parse_message(_raw("ge", hr=81, spo2=95, rr=16, sys=124, dia=79))
    assert parsed.header.message_type == "ORU"
    assert parsed.header.control_id == "ge-1"
    assert parsed.device_ids[0] == samples.GE_DEVICE
    values = {(r.field, r.code): r.value for r in parsed.readings}
    assert values[("heart_rate_bpm", "147842")] == "81"
    assert values[("spo2_percent", "150456")] == "95"
    assert values[("respiratory_rate", "151562")] == "16"
    assert values[("systolic_mmhg", "150301")] == "124"
    assert values[("temperature_c", "150344")] == "36.8"
    systolic = next(r for r in parsed.readings if r.code == "150301")
    assert systolic.at == CUFF.isoformat()
    reasons = {i.code: i.reason for i in parsed.ignored}
    assert "status X" in reasons["69965"]  # the MDS row
    assert "not a chart field" in reasons["150303"]  # mean pressure


def test_philips_efficia_message_maps_mdil_codes() -> None:
    parsed = parse_message(_raw("philips", hr=66, spo2=98))
    values = {r.code: r.value for r in parsed.readings}
    assert values["0002-4182"] == "66"
    assert values["0002-4bb8"] == "98"
    assert values["0002-4a05"] == "118"
    assert parsed.device_ids[0] == samples.PHILIPS_DEVICE
    # "?" on screen: empty OBX-5 and status X, ignored.
    assert any(i.code == "0002-f0c7" and "status X" in i.reason for i in parsed.ignored)
    # Alarms as text are kept, not charted.
    assert parsed.alarms == ("Yellow Alarm: **SpO2 Low",)


def test_non_ascii_in_utf8_or_latin1_is_read() -> None:
    text = samples.render(samples.SAMPLES["philips"], now=NOW, nibp=CUFF, control="p")
    for encoding in ("utf-8", "latin-1"):
        parsed = parse_message(text.encode(encoding))
        assert any(r.code == "0002-4182" for r in parsed.readings)


def test_no_value_sentinels_are_ignored() -> None:
    parsed = parse_message(_raw("sentinels"))
    assert {r.field for r in parsed.readings} == {"systolic_mmhg", "diastolic_mmhg"}
    sentinel = {i.code: i.reason for i in parsed.ignored}
    for code, value in [
        ("147842", "-999"),
        ("150456", "-100"),
        ("151562", "-1"),
        ("150344", "8388607"),
        ("149530", "-99.9"),
    ]:
        assert sentinel[code] == f"{value} is a 'no value' sentinel"


def test_third_vendor_quirks() -> None:
    parsed = parse_message(_raw("vendor", hr=77, sys=131, dia=84))
    by_field: dict[str, list[str]] = {}
    for r in parsed.readings:
        by_field.setdefault(r.field, []).append(r.value)
    # 150031 in OBX-3, OBX-4 ends in 150301: systolic.
    systolic = next(r for r in parsed.readings if r.field == "systolic_mmhg")
    assert systolic.value == "131"
    assert "taken from OBX-4" in systolic.note
    # OBX-2 ST for a number; UCUM {beats}/min.
    assert by_field["heart_rate_bpm"] == ["77"]
    # UCUM mm[Hg], %; NIBP at its own time (OBX-14, APERIODIC).
    assert by_field["diastolic_mmhg"] == ["84"]
    assert systolic.at == CUFF.isoformat()
    # UCUM Cel and a second channel in tenths.
    assert by_field["temperature_c"] == ["36.9", "38.45"]


def test_waveform_message_is_skipped() -> None:
    parsed = parse_message(_raw("waveform"))
    assert parsed.skipped.startswith("ORU^W01")
    assert parsed.readings == ()
    assert vitals_sets(parsed) == []


def test_lf_separated_segments_are_read() -> None:
    raw = _raw("ge").replace(b"\r", b"\r\n")
    assert len(parse_message(raw).readings) == 7


def test_a_unit_not_accepted_is_not_charted() -> None:
    raw = _raw("ge").replace(b"262688^MDC_DIM_PERCENT^MDC", b"999^MDC_DIM_FRACTION^MDC")
    parsed = parse_message(raw)
    assert not any(r.field == "spo2_percent" for r in parsed.readings)
    assert any("unit 999/MDC_DIM_FRACTION not accepted" in i.reason for i in parsed.ignored)


def test_units_are_judged_the_same_when_the_answer_is_remembered() -> None:
    """`unit_accepted` keeps its answers (a monitor sends the same units in every message):
    asked again, accepted and refused units get the same answer; long unit text is not kept."""
    import dataclasses

    book = dataclasses.replace(default_code_book(), _accepted={})  # a book of its own
    entry = book.lookup("MDC", "150456")
    assert entry is not None
    for _ in range(2):
        accepted = book.unit_accepted(entry, ("262688", "MDC_DIM_PERCENT"))
        assert accepted is not None and "MDC_DIM_PERCENT" in accepted.accept
        assert book.unit_accepted(entry, ("266016", "MDC_DIM_MMHG")) is None
    assert book.unit_accepted(entry, ("x" * 500, "")) is None
    assert len(book._accepted) == 2


def test_fahrenheit_is_converted() -> None:
    raw = _raw("ge").replace(b"36.8|268192^MDC_DIM_DEGC", b"98.6|268160^MDC_DIM_FAHR")
    temperature = next(r for r in parse_message(raw).readings if r.field == "temperature_c")
    assert temperature.value == "37.00"


@pytest.mark.parametrize(
    ("raw", "code", "reason"),
    [
        (b"hello", "100", "does not start with MSH"),
        (b"MSH|^~\\&|A|B|||20261202||ADT^A01|X1|P|2.6\r", "200", "ADT^A01 is not taken"),
        (b"MSH|^~\\&|A|B|||20261202||ORU^R01||P|2.6\r", "101", "MSH-10"),
        (b"MSH|^~\\&|A|B|||20261202||ORU^R30|X2|P|2.6\r", "201", "ORU^R30"),
    ],
)
def test_what_cannot_be_taken_is_refused_with_a_reason(raw: bytes, code: str, reason: str) -> None:
    with pytest.raises(MessageRefused) as refused:
        parse_message(raw)
    assert refused.value.ack_code == "AR"
    assert refused.value.error_code == code
    assert reason in refused.value.reason


def test_times_without_offset_are_in_the_clinic_zone() -> None:
    zone = ZoneInfo("America/New_York")
    assert parse_time("20261202101500", zone) == datetime(2026, 12, 2, 15, 15, tzinfo=UTC)
    assert parse_time("20261202101500+0100", zone) == datetime(2026, 12, 2, 9, 15, tzinfo=UTC)
    assert parse_time("202612021015", UTC) == datetime(2026, 12, 2, 10, 15, tzinfo=UTC)
    assert parse_time("20261202101500.123-0500", UTC) == datetime(2026, 12, 2, 15, 15, tzinfo=UTC)
    assert parse_time("garbage", UTC) is None


# --- the chart sets -------------------------------------------------------------------


def test_vitals_sets_periodic_and_the_cuff_at_its_own_time() -> None:
    sets = vitals_sets(parse_message(_raw("ge", hr=90, spo2=90, rr=12, sys=140, dia=90)))
    assert [(s.kind, s.at) for s in sets] == [("periodic", NOW), ("nibp", CUFF)]
    assert sets[0].values == {"heart_rate_bpm": 90, "respiratory_rate": 12, "spo2_percent": 90}
    assert sets[1].values == {"diastolic_mmhg": 90, "systolic_mmhg": 140}
    assert sets[0].key == "ge-1"
    assert sets[1].key == "nibp:20261202T101200"
    assert "MDC:147842" in sets[0].codes  # ECG heart rate chosen over the pleth pulse


def test_cuff_taken_at_the_observation_time_is_one_set() -> None:
    text = samples.render(samples.SAMPLES["ge"], now=NOW, nibp=NOW, control="c")
    sets = vitals_sets(parse_message(text.encode()))
    assert [s.kind for s in sets] == ["periodic+nibp"]
    assert set(sets[0].values) == {
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "respiratory_rate",
    }


def test_pleth_pulse_is_used_when_there_is_no_ecg() -> None:
    raw = _raw("ge").replace(
        b"147842^MDC_ECG_HEART_RATE^MDC|1.13.1.147842|72",
        b"147842^MDC_ECG_HEART_RATE^MDC|1.13.1.147842|-999",
    )
    sets = vitals_sets(parse_message(raw))
    assert sets[0].values["heart_rate_bpm"] == 72
    assert "MDC:149530" in sets[0].codes


# --- the code book --------------------------------------------------------------------


def test_code_book_has_a_source_for_every_code_and_unit() -> None:
    book = default_code_book()
    assert all(entry.source for entry in book.codes.values())
    assert all(unit.source for unit in book.units.values())
    for code in ("150301", "150302", "147842", "150456", "151562", "150344"):
        assert book.lookup("MDC", code) is not None
    for code in ("0002-4bb8", "0002-4182", "0002-4a05", "0002-4a06", "0002-5000"):
        assert book.lookup("MDIL", code) is not None


def test_code_book_refuses_a_code_with_an_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        code_book_from(
            {
                "codes": [
                    {
                        "system": "MDC",
                        "code": "1",
                        "name": "x",
                        "field": "f",
                        "unit": "nope",
                        "kind": "periodic",
                        "source": "s",
                    }
                ],
                "units": {},
                "no_value": {"values": []},
                "tenths": {"fields": [], "plausible_low": 0, "plausible_high": 1},
                "fields": {"heart_rate_bpm": {"priority": []}},
            }
        )


# --- ACKs -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["AA", "AE", "AR"])
def test_ack_parses_back_with_python_hl7(code: str) -> None:
    header = parse_message(_raw("ge")).header
    text = "database unavailable | retry" if code != "AA" else ""
    ack = build_ack(header, code=code, text=text, error_code="207", control_id="K1", now=NOW)
    assert b"\x0b" not in ack and b"\x1c" not in ack
    message = hl7.parse(ack.decode())
    assert str(message.segment("MSA")[1]) == code
    assert str(message.segment("MSA")[2]) == "ge-1"
    assert str(message.segment("MSH")[9]) == "ACK^R01^ACK"
    if code != "AA":
        assert message.unescape(str(message.segment("MSA")[3])) == text
        assert str(message.segment("ERR")[3]).startswith("207")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("00A0C8FFFE000003", "00A0C8FFFE000003"),  # nothing to escape: returned as it is
        ("a|b^c~d&e\\f", "a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f"),
        ("tab\there", "tabhere"),  # control characters dropped
        ("|\x07", "\\F\\"),
        ("", ""),
    ],
)
def test_ack_text_is_escaped_where_needed(text: str, escaped: str) -> None:
    assert escape(text) == escaped


def test_each_ack_addresses_its_own_sender_when_the_senders_parts_are_remembered() -> None:
    """The sender's MSH fields are made once per sender (issue 17): ACKs to two monitors in
    turn, one sender escaped, each names its own application and facility, time and ids."""
    first = Header("ORU", "R01", "A-1", "2.6", "MON|1", "", "WARD^A", "", "", "P")
    second = Header("ORU", "R01", "B-1", "2.5", "MON2", "", "WARD B", "", "", "T")
    later = NOW + timedelta(seconds=1)
    for _ in range(2):
        a = build_ack(first, code="AA", control_id="K1", now=NOW).decode()
        b = build_ack(second, code="AA", control_id="K2", now=later).decode()
        assert a.startswith(f"MSH|^~\\&|KETACLINIC||MON\\F\\1|WARD\\S\\A|{NOW:%Y%m%d%H%M%S%z}|")
        assert a.split("\r")[0].endswith("||ACK^R01^ACK|K1|P|2.6") and "MSA|AA|A-1|" in a
        assert "|MON2|WARD B|" in b and b.split("\r")[0].endswith("||ACK^R01^ACK|K2|T|2.5")
        assert b.split("|")[6] == f"{later:%Y%m%d%H%M%S%z}" != a.split("|")[6]


def test_refusal_of_an_unparsable_message_is_still_addressed() -> None:
    header = header_fallback("MSH|^~\\&|MON|WARD|||2026||ORU^R01|Z9|P|2.6\rOBX|broken")
    assert header.control_id == "Z9"
    ack = build_ack(header, code="AR", text="bad", control_id="K2", now=NOW).decode()
    assert "MSA|AR|Z9|bad" in ack
    assert header_fallback("garbage") == Header()


def test_refusal_header_reads_msh9_and_msh3_components() -> None:
    """MSH-2 is component, repetition, escape, sub-component: the refused message's MSH-9
    "ORU^R01^ORU_R01" is type ORU, trigger R01 (it was read whole as the type, with no
    trigger, and MSH-3 "MON^DEV" whole as the application), and its AR says ACK^R01."""
    text = "MSH|^~\\&|MON^DEV|WARD^X|||2026||ORU^R01^ORU_R01|Z9|P|2.6\rOBX|broken"
    header = header_fallback(text)
    assert header == Header(
        message_type="ORU",
        trigger="R01",
        control_id="Z9",
        sending_application="MON",
        sending_facility="WARD",
    )
    ack = build_ack(header, code="AR", text="bad", control_id="K", now=NOW).decode()
    assert "|ACK^R01^ACK|" in ack
    other = header_fallback("MSH#@$\\%#MON@DEV2#WARD###2026##ORU@R01@ORU_R01#D1#P")
    assert (other.message_type, other.trigger, other.sending_application) == ("ORU", "R01", "MON")


@pytest.mark.parametrize("name", sorted(samples.SAMPLES))
def test_the_stored_parse_result_reads_back_as_parsed(name: str) -> None:
    """Format 2 (`PARSE_FORMAT`): the field names once, each reading and ignored row an
    array in their order; read back (`parsed_from_json`) it is the parse result, every value
    as parsed."""
    import json

    parsed = parse_message(_raw(name))
    stored = json.loads(json.dumps(parsed.as_json()))  # as the JSON column keeps it
    assert stored["format"] == PARSE_FORMAT
    assert stored["reading_fields"] == list(Reading._fields)
    assert all(isinstance(row, list) for row in stored["readings"] + stored["ignored"])
    assert parsed_from_json(stored) == parsed


def test_a_parse_result_stored_in_the_first_format_still_reads() -> None:
    """Rows kept before format 2 (each reading an object with its names) read the same."""
    import dataclasses
    import json

    parsed = parse_message(_raw("ge"))
    first = json.loads(json.dumps(dataclasses.asdict(parsed)))  # format 1, as it was kept
    first["readings"] = [r._asdict() for r in parsed.readings]
    first["ignored"] = [i._asdict() for i in parsed.ignored]
    assert "format" not in first and isinstance(first["readings"][0], dict)
    assert parsed_from_json(first) == parsed


def test_plain_and_decimal_values_read_the_same() -> None:
    """The whole-number fast path gives what the Decimal path gives: the same text, the
    'no value' sentinels caught either way."""
    book = default_code_book()
    for text in ("82", "082", "82.0", "81.5", "82.5", "8388607", "-999", "0"):
        raw = (
            "MSH|^~\\&|MON^DEV1|WARD|||20261202101500||ORU^R01|V1|P|2.6\r"
            f"OBX|1|NM|147842^HR^MDC|1.13.1.147842|{text}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r"
        ).encode()
        parsed = parse_message(raw)
        number = Decimal(text)
        if number in book.no_value:
            assert parsed.readings == () and "sentinel" in parsed.ignored[0].reason
        else:
            expected = str(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            assert [r.value for r in parsed.readings] == [expected], text


# --- the field splitter against python-hl7 ------------------------------------------------

REFUSED = [
    b"MSH|^~\\&|A|B|||20261202||ADT^A01|X1|P|2.6\r",
    b"MSH|^~\\&|A|B|||20261202||ORU^R01||P|2.6\r",
    b"MSH|^~\\&|A|B|||20261202||ORU^R30|X2|P|2.6\r",
]
ESCAPED = (
    b"MSH|^~\\&|MON^DEV1|WARD|||20261202101500||ORU^R01|E1|P|2.6\r"
    b"OBX|1|TX|2^Yellow Alarm^MDIL-ALERT|0|SpO2 \\T\\ HR \\S\\ low \\F\\ check||||||R\r"
    b"OBX|2|NM|147842^HR^MDC|1.13.1.147842|7\\E\\2|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r"
)
OTHER_DELIMITERS = (
    b"MSH#@$\\%#MON@DEV2#WARD###20261202101500##ORU@R01#D1#P#2.6\r"
    b"OBX#1#NM#147842@MDC_ECG_HEART_RATE@MDC#1.13.1.147842#71#264864@MDC_DIM_BEAT_PER_MIN@MDC"
    b"#####R#########DEV2@@DEV2$x\r"
)


def _every_recorded_input() -> list[tuple[str, bytes]]:
    """Every sample and quirk the tests parse, in every form they are sent."""
    ge = _raw("ge")
    inputs = [(name, _raw(name)) for name in sorted(samples.SAMPLES)]
    philips = samples.render(samples.SAMPLES["philips"], now=NOW, nibp=CUFF, control="p")
    inputs += [
        ("philips latin-1", philips.encode("latin-1")),
        ("ge CR LF", ge.replace(b"\r", b"\r\n")),
        ("ge LF", ge.replace(b"\r", b"\n")),
        ("ge unit", ge.replace(b"262688^MDC_DIM_PERCENT^MDC", b"999^MDC_DIM_FRACTION^MDC")),
        ("ge degF", ge.replace(b"36.8|268192^MDC_DIM_DEGC", b"98.6|268160^MDC_DIM_FAHR")),
        ("escaped", ESCAPED),
        ("other delimiters", OTHER_DELIMITERS),
        *((f"refused {i}", raw) for i, raw in enumerate(REFUSED)),
    ]
    return inputs


@pytest.mark.parametrize(("name", "raw"), _every_recorded_input())
def test_fields_are_split_as_python_hl7_splits_them(name: str, raw: bytes) -> None:
    text = normalise(decode(raw)[0])
    ours = split_segments(text, delimiters(text).field)
    theirs = [[str(value) for value in segment] for segment in hl7.parse(text)]
    assert ours == theirs, name


def test_escape_sequences_are_undone_with_the_message_delimiters() -> None:
    parsed = parse_message(ESCAPED)
    assert parsed.alarms == ("Yellow Alarm: SpO2 & HR ^ low | check",)
    # An escaped backslash in a value is no number: ignored, not misread.
    assert [i.reason for i in parsed.ignored] == ["value '7\\\\2' is not a number"]


def test_other_declared_delimiters_are_used() -> None:
    parsed = parse_message(OTHER_DELIMITERS)
    assert parsed.header.control_id == "D1"
    assert parsed.device_ids == ("DEV2", "MON")  # OBX-18's first repetition ($), MSH-3
    assert [(r.field, r.value) for r in parsed.readings] == [("heart_rate_bpm", "71")]


@pytest.mark.parametrize("msh2", ["^~\\", "^~", "^", ""])
def test_an_msh2_shorter_than_four_characters_takes_the_defaults_for_the_rest(msh2: str) -> None:
    """MSH-2 ends at the next "|": what it leaves out takes the default, as the field split
    (`segments.delimiters`) and python-hl7 read it. An empty MSH-2 used to give "|" as the
    component separator, and the message was refused for its type."""
    raw = samples.render(samples.SAMPLES["ge"], now=NOW, nibp=NOW, control="C1")
    whole = parse_message(raw.encode())
    short = raw.replace("MSH|^~\\&|", f"MSH|{msh2}|", 1)
    parsed = parse_message(short.encode())
    assert delimiters(short).component == "^"
    assert (parsed.header.message_type, parsed.header.trigger) == ("ORU", "R01")
    assert parsed.device_ids == whole.device_ids
    assert parsed.readings == whole.readings
    assert [s.values for s in vitals_sets(parsed)] == [s.values for s in vitals_sets(whole)]
    assert header_fallback(short).control_id == "C1"
