"""An HL7 v2 message split into segments and fields, each field as text: what python-hl7's
`hl7.parse` gives when every field is read back with `str()`, without building its tree.

Why by hand (issue 17's speed targets): the parser reads each field as text and splits
components itself, so python-hl7's tree of containers (one object per component: 374 for a
GE periodic message of 13 segments) was built only to be turned back into strings. Measured
on this machine (2026-12-03, load 6-7 on 2 cores): `hl7.parse` 1,800 us of the 3,200 us a GE
message took to read, and `str()` of its fields most of the rest, against 5 us for the split
below; parsing was two thirds of the listener's CPU. Reading only the segments we use (MSH,
OBR, OBX) would not help: they are 11 of the 13.

What is kept from python-hl7: undoing escape sequences (`Message.unescape`, the part with
rules), the ACKs parse back with it in the tests, and the tests compare this split with
`hl7.parse` field by field on every recorded sample and quirk (`test_feed.py`).

Only splitting: segments at <CR> (the caller normalises <LF> and <CR><LF> first), fields at
the field separator MSH-1. As in python-hl7, MSH's own fields are numbered as the standard
does: MSH[1] is the field separator, MSH[2] the encoding characters, MSH[3] the sending
application. Pure: no Django, no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import hl7

DEFAULT_ENCODING = "^~\\&"
"""MSH-2 by default: component, repetition, escape, sub-component."""


@dataclass(frozen=True)
class Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


def delimiters(msh: str) -> Delimiters:
    """MSH-1 and MSH-2 as declared (python-hl7's `create_parse_plan`: missing characters
    take their defaults). `msh` starts with "MSH" and has at least 4 characters. Only its
    characters 3 to 7 count (MSH-1 and at most four of MSH-2): the answer is kept by them,
    one frozen instance for every message a monitor sends (issue 17)."""
    return _delimiters_of(msh[3:8])


@functools.lru_cache(maxsize=64)
def _delimiters_of(head: str) -> Delimiters:
    bar = head[0]
    declared = head[1:].split(bar, 1)[0]
    chars = declared + DEFAULT_ENCODING[len(declared) :]
    return Delimiters(
        field=bar, component=chars[0], repetition=chars[1], escape=chars[2], subcomponent=chars[3]
    )


def split_segments(text: str, bar: str) -> list[list[str]]:
    """Each segment's fields, `[segment id, field 1, field 2, ...]` (see the module). A
    segment starting "MSH" has its field separator as field 1 (counted as the standard
    counts MSH's fields)."""
    if len(bar) == 1 and text.startswith("MSH" + bar) and "\rMSH" not in text:
        # Only the first segment is an MSH (every other starts after a <CR>): split all
        # alike, then give the MSH its MSH-1 (equal to the general way: test_feed_fast.py).
        rows = [line.split(bar) for line in text.split("\r") if line]
        rows[0].insert(1, bar)
        return rows
    rows = []
    for line in text.split("\r"):
        if not line:
            continue
        if line.startswith("MSH"):
            rows.append(["MSH", bar, *line[4:].split(bar)])
        else:
            rows.append(line.split(bar))
    return rows


class Unescaper:
    """Escape sequences (\\F\\, \\S\\, \\.br\\, \\X..\\ ...) undone by python-hl7, with the
    message's own delimiters; values without the escape character are returned as they are
    (python-hl7 does the same check first)."""

    def __init__(self, delims: Delimiters) -> None:
        self._delims = delims
        self._message: hl7.Message | None = None

    def __call__(self, value: str) -> str:
        if self._delims.escape not in value:
            return value
        if self._message is None:
            d = self._delims
            self._message = hl7.Message(
                esc=d.escape,
                separators="\r" + d.field + d.repetition + d.component + d.subcomponent,
            )
        try:
            return str(self._message.unescape(value))
        except Exception:
            return value
