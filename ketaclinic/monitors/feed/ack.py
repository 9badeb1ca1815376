"""HL7 acknowledgements (original mode): AA taken, AE error (send again later), AR refused.

Built here, as text, rather than with python-hl7's `create_ack`, because a refusal must be
answerable even when the message could not be parsed; tests check the result parses back
with python-hl7 (hl7apy #139: an ACK with framing characters failed to parse, so none are
put inside). Pure: no Django.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from ketaclinic.monitors.feed.parse import Header

APPLICATION = "KETACLINIC"
ACK_CODES = frozenset({"AA", "AE", "AR"})
TEXT_MAX = 80
"""MSA-3 is 80 characters in v2.3-2.4 (ST); longer reasons are cut (ERR-8 keeps 250)."""


def escape(text: str) -> str:
    """HL7 escape sequences for the default delimiters; control characters dropped."""
    if (  # the common case (ids, names, codes): nothing to escape, five scans in C
        "\\" not in text
        and "|" not in text
        and "^" not in text
        and "~" not in text
        and "&" not in text
        and text.isprintable()
    ):
        return text
    out = text.replace("\\", "\\E\\")
    for char, seq in (("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\")):
        out = out.replace(char, seq)
    if out.isprintable():  # no control character: the common case, without a pass by character
        return out
    return "".join(c for c in out if c >= " ")


@functools.lru_cache(maxsize=1024)
def _msh_parts(
    receiving_facility: str,
    sending_application: str,
    sending_facility: str,
    trigger: str,
    processing_id: str,
    version: str,
) -> tuple[str, tuple[str, str, str]]:
    """The ACK's MSH fields that come from the sender (the same for every message of a
    monitor: made once, issue 17): MSH-1 to MSH-6 joined, and MSH-9, MSH-11 and MSH-12."""
    head = "|".join(
        [
            "MSH",
            "^~\\&",
            APPLICATION,
            escape(receiving_facility),
            escape(sending_application),
            escape(sending_facility),
        ]
    )
    return head, (f"ACK^{escape(trigger)}^ACK" if trigger else "ACK", processing_id, version)


@functools.lru_cache(maxsize=64)
def _hl7_time(at: datetime) -> str:
    """MSH-7 (a batch's ACKs share one time)."""
    return at.strftime("%Y%m%d%H%M%S%z")


def build_ack(
    header: Header,
    *,
    code: str,
    text: str = "",
    error_code: str = "",
    control_id: str,
    now: datetime | None = None,
) -> bytes:
    """The ACK for `header` (the message being answered), UTF-8, segments ended by <CR>."""
    if code not in ACK_CODES:
        raise ValueError(f"ACK code must be one of {sorted(ACK_CODES)}")
    head, tail = _msh_parts(
        header.receiving_facility,
        header.sending_application,
        header.sending_facility,
        header.trigger or "",
        header.processing_id or "P",
        header.version or "2.6",
    )
    msh = "|".join(
        [head, _hl7_time(now or datetime.now(UTC)), "", tail[0], escape(control_id), *tail[1:]]
    )
    msa = "|".join(["MSA", code, escape(header.control_id), escape(text)[:TEXT_MAX]])
    segments = [msh, msa]
    if code != "AA":
        severity = "E"
        segments.append(
            "|".join(
                [
                    "ERR",
                    "",
                    "",
                    f"{error_code or '207'}^^HL70357",
                    severity,
                    "",
                    "",
                    "",
                    escape(text)[:250],
                ]
            )
        )
    return ("\r".join(segments) + "\r").encode("utf-8")
