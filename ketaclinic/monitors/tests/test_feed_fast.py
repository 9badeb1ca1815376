"""Issue 17's fast reading of a monitor message gives what the reading before it gave
(`feed_reference`, main at 997e299): on every recorded sample and quirk, and on messages
generated around them (hypothesis: other delimiters, line ends, blank lines, padding, codes,
units, statuses, values, times, device ids), read once and again from the rows the book
remembers. Also: the refusal's header (`header_fallback`) reads what the parser reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ketaclinic.monitors.feed import parse, samples, segments
from ketaclinic.monitors.feed.codes import CodeBook, default_code_book
from ketaclinic.monitors.feed.parse import Header, MessageRefused
from ketaclinic.monitors.feed.vitals import vitals_sets
from ketaclinic.monitors.tests import feed_reference as ref
from ketaclinic.monitors.tests.test_feed import NOW, _every_recorded_input

ZONES = [UTC, ZoneInfo("America/New_York")]
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fresh_book() -> CodeBook:
    """The shipped code book with nothing remembered (`row_plans` is not copied)."""
    return dataclasses.replace(default_code_book(), _accepted={})


def _outcome(reader: Any, raw: bytes, **kwargs: Any) -> tuple[Any, ...]:
    """What reading gives: the parse and its chart sets, the refusal, or the error's type."""
    try:
        parsed = reader.parse_message(raw, **kwargs)
    except MessageRefused as refused:
        return ("refused", refused.reason, refused.ack_code, refused.error_code)
    except Exception as error:
        return ("error", type(error).__name__)
    sets_reader = ref.vitals_sets if reader is ref else vitals_sets
    return ("parsed", parsed, sets_reader(parsed, kwargs.get("book")))


def _assert_read_alike(raw: bytes) -> None:
    """Fast and reference readings are equal, in either zone, with a fresh book and again
    with what it remembered of the first reading."""
    for zone in ZONES:
        book = _fresh_book()
        expected = _outcome(ref, raw, default_tz=zone, book=book)
        assert _outcome(parse, raw, default_tz=zone, book=book) == expected
        assert _outcome(parse, raw, default_tz=zone, book=book) == expected  # remembered
        assert _outcome(parse, raw, default_tz=zone) == _outcome(ref, raw, default_tz=zone)


@pytest.mark.parametrize(("name", "raw"), _every_recorded_input())
def test_every_recorded_sample_and_quirk_reads_as_before(name: str, raw: bytes) -> None:
    _assert_read_alike(raw)
    text = parse.normalise(parse.decode(raw)[0])
    assert parse.normalise(parse.decode(raw)[0]) == ref.normalise(parse.decode(raw)[0])
    assert segments.delimiters(text) == ref.delimiters(text)
    bar = text[3] if len(text) > 3 else "|"
    assert segments.split_segments(text, bar) == ref.split_segments(text, bar)
    assert parse.header_fallback(text) == ref.header_fallback(text)


def test_the_bench_messages_read_as_before() -> None:
    """The burst's own messages (GE, its cuff at the observation time), 200 monitors."""
    for n in range(200):
        text = samples.render(
            samples.SAMPLES["ge"],
            now=NOW + timedelta(seconds=n % 60),
            nibp=NOW + timedelta(seconds=n % 60) - timedelta(minutes=n % 2),
            control=f"B{n:03d}-{n:06d}",
            device=f"00A0C8FFFE{n:06X}",
            hr=60 + n % 30,
            spo2=95 + n % 4,
        )
        _assert_read_alike(text.encode())


# --- generated messages ---------------------------------------------------------------

SPECIALS = "|^~\\&#@$%!"
CODES = ["150301^MDC_PRESS_CUFF_SYS^MDC", "150031^X^MDC", "0002-4A05^NBPs^mdil", "147842^HR^"]
CODES += ["0002-5000^Resp^", "^^MDC", "2^Yellow Alarm^MDIL-ALERT", "69965^MDS^MDC", "1^x^LN"]
CODES += ["150344^MDC_TEMP^MDC", "0002-f0c7^T1^MDIL", "150303^MEAN^MDC", " 150456 ^ SpO2 ^ mdc "]
UNITS = ["266016^MDC_DIM_MMHG^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC", "^[degF]", "Cel^Cel^UCUM"]
UNITS += ["268160^MDC_DIM_FAHR^MDC", "mm[Hg]", "0004-0aa0^bpm^MDIL", " 262688 ^ x ", "", "~266016"]
UNITS += ["999^MDC_DIM_FRACTION^MDC", "268192^MDC_DIM_DEGC^MDC", "%^%^UCUM"]
VALUES = ["72", "082", "0", "36.8", "98.6", "384.5", "81.5", "-999", "-99.9", "8388607", "-1"]
VALUES += ["", " 97 ", "1e2", "NaN", "Infinity", "abc", "٣", "7\\E\\2", "\\F\\", "12&3", "5~6"]
VALUES += ["999", "4.5", "450", "120.5", "-0", "+80"]
TIMES = ["20261202101500", "20261202101200+0100", "202612021015", "2026120210", "garbage"]
TIMES += ["", "20261202101500.5-0500", "20261340101500", "00010101000000+0100"]
OTHERS = {
    2: ["NM", "ST", "SN", "TX", "NA", " nm ", ""],
    3: CODES,
    4: ["", "1.3.1.150301", "1.13.1.147842", "0", "150301"],
    5: VALUES,
    6: UNITS,
    11: ["R", "F", "X", "d", " c ", ""],
    14: TIMES,
    17: ["", "APERIODIC"],
    18: ["DEV1^^DEV1^EUI-64", "DEV2~DEV3", "^^DEV4", "DEV1", ""],
}
"""What an OBX field is changed to (by its number) in the generated messages."""

text_bits = st.text(alphabet=" \x00AZ09.-" + SPECIALS, max_size=6)


def _sample_rows() -> tuple[list[str], list[list[str]]]:
    """The MSH and every OBX of the recorded samples, as fields."""
    msh: list[str] = []
    obx: list[list[str]] = []
    for name in ("ge", "philips", "sentinels", "vendor"):
        text = samples.render(samples.SAMPLES[name], now=NOW, nibp=NOW, control=f"{name}-1")
        for line in text.split("\r"):
            if line.startswith("MSH"):
                msh = msh or line.split("|")
            elif line.startswith("OBX"):
                obx.append(line.split("|"))
    return msh, obx


SAMPLE_MSH, SAMPLE_OBX = _sample_rows()


@st.composite
def _changed(
    draw: st.DrawFn,
    fields: list[str],
    others: dict[int, list[str]],
    cuts: tuple[int, ...] = (0, 3, 6, 12, 15, 0),
) -> list[str]:
    """`fields` with now and then one changed to another value, or to anything; cut after
    one of `cuts` fields (0: not cut)."""
    fields = list(fields)
    for index, options in others.items():
        roll = draw(st.integers(0, 9))
        if 2 <= roll <= 8:
            continue
        value = draw(text_bits) if roll == 1 else draw(st.sampled_from(options))
        fields += [""] * (index + 1 - len(fields))
        fields[index] = value
    return fields[: draw(st.sampled_from(cuts)) or len(fields)]


@st.composite
def messages(draw: st.DrawFn) -> str:
    """An ORU shaped on the samples (rows of theirs, some fields changed), written with the
    drawn delimiters, line ends, blank and padded lines."""
    bar = draw(st.sampled_from("||#!"))
    encoding = draw(st.sampled_from(["^~\\&", "^~\\&", "@$\\%", "^~\\", "^", "", "^~\\&x"]))
    component, repetition = (encoding + "^~")[0], (encoding + "^~~")[1]

    def written(fields: list[str]) -> str:
        mapping = {"|": bar, "^": component, "~": repetition}
        return bar.join("".join(mapping.get(c, c) for c in f) for f in fields)

    msh = draw(
        _changed(
            SAMPLE_MSH,
            {
                2: ["MON^DEV9^EUI-64", "MON", "^DEV9", ""],  # MSH-3 (MSH-1 is not split)
                6: TIMES,  # MSH-7
                8: ["ORU^R01", "ORU^W01", "ORU^R30", "ADT^A01", "ORU", "ORU~ADT^R01"],
                9: ["C1", "C2", "C3", ""],  # MSH-10
            },
            cuts=(0, 0, 3, 11, 12, 0, 0),
        )
    )
    lines = [f"MSH{bar}{encoding}{bar}" + written(msh[2:])]
    if draw(st.integers(0, 3)):
        lines.append(
            written(["OBR", "1", "", "", "x^y^SNOMED-CT", "", "", draw(st.sampled_from(TIMES))])
        )
    rows = draw(st.lists(st.sampled_from(SAMPLE_OBX), max_size=9))
    lines += [written(draw(_changed(row, OTHERS))) for row in rows]
    extra = ["", " ", "\x00", "PID|||x", "MSH|^~\\&|X"]
    lines += draw(st.lists(st.sampled_from(extra), max_size=2))
    ends = ["\r", "\r", "\n", "\r\n", "\r\r", " \r", "\r\x00"]
    endings = draw(st.lists(st.sampled_from(ends), min_size=1, max_size=3))
    text = "".join(line + endings[i % len(endings)] for i, line in enumerate(lines))
    return draw(st.sampled_from(["", "", " ", "\r"])) + text


@EXAMPLES
@given(messages())
@example("MSH|^~\\&|MON^DEV|WARD|||20261202101500||ORU^R01|C1|P|2.6\rOBX|1|NM|147842^HR^MDC")
def test_generated_messages_read_as_before(text: str) -> None:
    _assert_read_alike(text.encode("utf-8"))
    assert parse.header_fallback(text) == ref.header_fallback(text)


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("unit", UNITS)
def test_every_value_with_every_code_and_unit_reads_as_before(code: str, unit: str) -> None:
    """Each value the generated messages use (and whole numbers in tenths, in degF, plain
    temperatures) in a row of each code and unit: the conversions, the tenths quirk, the
    sentinels, the refusals, in the order they are made."""
    values = [*VALUES, "384", "99", "37", "450", "98", "120", "2", "82.5", "1000"]
    head = "MSH|^~\\&|MON^DEV1|WARD|||20261202101500||ORU^R01|G1|P|2.6\r"
    for value_type, status in [("NM", "R"), ("ST", "F"), ("TX", "R"), ("NM", "X")]:
        rows = [
            f"OBX|{i}|{value_type}|{code}|1.9.1.150344|{value}|{unit}|||||{status}|||"
            + ("20261202101200" if i % 2 else "")
            for i, value in enumerate(values, start=1)
        ]
        _assert_read_alike((head + "\r".join(rows) + "\r").encode())


lines_text = st.one_of(
    st.text(alphabet="\r\n\x00 \tMSH|^~\\&AB", max_size=60),
    st.tuples(
        st.lists(st.text(alphabet="\x00 \tMSH|AB", max_size=6), max_size=8),
        st.sampled_from(["\r", "\n", "\r\n"]),
    ).map(lambda lines_sep: lines_sep[1].join(lines_sep[0])),
)
"""Text of few characters: random, or lines (some blank or padded) joined by one line end."""


@EXAMPLES
@given(lines_text)
@example("")
@example("\r")
@example("MSH|x\r")
@example("MSH|x\r\r")
@example("MSH|x\r\rOBX|1")
@example(" MSH|x")
@example("MSH|x \rOBX")
def test_normalise_is_as_before(text: str) -> None:
    assert parse.normalise(text) == ref.normalise(text)


@EXAMPLES
@given(lines_text, st.sampled_from("|#^ "))
@example("MSH", "|")
@example("MSH|", "|")
@example("MSH|a\rMSH|b\rMSHX|c", "|")
def test_segments_split_as_before(text: str, bar: str) -> None:
    assert segments.split_segments(text, bar) == ref.split_segments(text, bar)


@EXAMPLES
@given(st.text(alphabet="|#^~\\&@x", min_size=1, max_size=10))
def test_delimiters_and_separators_are_as_before(tail: str) -> None:
    msh = "MSH" + tail
    assert segments.delimiters(msh) == ref.delimiters(msh)
    assert parse._separators(segments.delimiters(msh)) == ref._separators(msh)


# --- what the book remembers --------------------------------------------------------------


def test_a_book_remembers_each_distinct_row_once_and_within_bounds() -> None:
    book = _fresh_book()
    raw = samples.render(samples.SAMPLES["ge"], now=NOW, nibp=NOW, control="r").encode()
    parse.parse_message(raw, book=book)
    assert len(book.row_plans) == 9  # one per distinct OBX row of the GE message
    parse.parse_message(raw.replace(b"|72|", b"|73|"), book=book)  # other values only
    assert len(book.row_plans) == 9
    long_code = b"147842^" + b"X" * 600 + b"^MDC"
    long_raw = raw.replace(b"147842^MDC_ECG_HEART_RATE^MDC", long_code)
    parsed = parse.parse_message(long_raw, book=book)
    assert len(book.row_plans) == 9  # read, not kept
    assert parsed == ref.parse_message(long_raw)
    assert dataclasses.replace(book, _accepted={}).row_plans == {}


def test_remembered_rows_stop_at_the_bound() -> None:
    book = _fresh_book()
    for n in range(parse.ROW_PLANS_MAX + 20):
        raw = (
            "MSH|^~\\&|MON^DEV1|WARD|||20261202101500||ORU^R01|V1|P|2.6\r"
            f"OBX|1|NM|147842^HR{n}^MDC|1.13.1.147842|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r"
        ).encode()
        assert parse.parse_message(raw, book=book).readings[0].name == "MDC_ECG_HEART_RATE"
    assert len(book.row_plans) == parse.ROW_PLANS_MAX


# --- header_fallback ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "raw"), _every_recorded_input())
def test_refusal_header_agrees_with_the_parsed_header(name: str, raw: bytes) -> None:
    """What the fallback reads, the parser reads the same (on every message it takes)."""
    try:
        parsed = parse.parse_message(raw)
    except MessageRefused:
        return
    fallback = parse.header_fallback(parse.decode(raw)[0])
    for name_ in ("message_type", "trigger", "control_id", "sending_application"):
        assert getattr(fallback, name_) == getattr(parsed.header, name_), name
    assert fallback.sending_facility == parsed.header.sending_facility


def test_header_stays_an_immutable_hashable_value() -> None:
    header = parse.parse_message(
        samples.render(samples.SAMPLES["ge"], now=NOW, nibp=NOW, control="h").encode()
    ).header
    with pytest.raises(dataclasses.FrozenInstanceError):
        header.control_id = "x"  # type: ignore[misc]
    assert {header: 1}[Header(**vars(header))] == 1
