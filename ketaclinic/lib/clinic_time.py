"""Instants as the clinic reads them. Signed records and snapshots keep UTC text
(`2026-11-24T14:05:00.000000Z`); pages and printouts show the clinic's zone (settings.TIME_ZONE),
with the zone named so that a printed record is never ambiguous."""

from __future__ import annotations

from datetime import datetime, tzinfo


def instant_parse(text: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset (a trailing `Z` counts as UTC) -> aware datetime.
    Empty -> None. A time without an offset is refused: it names no instant."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an instant needs its UTC offset: {text!r}")
    return moment


def instant_local_text(text: str | None, zone: tzinfo, *, seconds: bool = True) -> str:
    """'2026-11-24T14:05:09.000000Z' in Europe/Berlin -> '2026-11-24 15:05:09 CET'."""
    moment = instant_parse(text)
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {local.tzname()}"
