"""A monitor's side of MLLP (asyncio): connect, send a message, wait for its ACK, and resend
as GE monitors do (up to 3 times) on AE, on no answer or on a dropped connection. Used by
`ketaclinic monitors simulate`, the tests and the benchmark. No Django."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from ketaclinic.monitors.feed.mllp import MllpDecoder, frame

RETRIES = 3
"""GE B-series: "retries up to 3x" (HL7 Reference Manual 2062665-001, interop.md)."""


@dataclass(frozen=True)
class Sent:
    control_id: str
    ack_code: str
    """AA, AE, AR; "" when no ACK came after every try."""
    text: str
    tries: int
    latency_s: float
    """From the first byte sent to the ACK that ended it (the last try)."""


def ack_fields(payload: bytes) -> tuple[str, str, str]:
    """(code, control id acknowledged, text) of an ACK, read by hand (no library needed)."""
    for segment in payload.decode("utf-8", "replace").split("\r"):
        if segment.startswith("MSA"):
            parts = [*segment.split("|"), "", "", ""]
            return parts[1], parts[2], parts[3]
    return "", "", ""


class MonitorLink:
    """One monitor's connection to the listener."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = MllpDecoder()

    async def _connect(self) -> None:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
            self._decoder = MllpDecoder()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def _exchange(self, payload: bytes) -> bytes:
        await self._connect()
        assert self._reader is not None and self._writer is not None
        self._writer.write(frame(payload))
        await self._writer.drain()
        while True:
            chunk = await asyncio.wait_for(self._reader.read(65536), self.timeout)
            if not chunk:
                raise ConnectionError("the listener closed the connection")
            for got in self._decoder.feed(chunk):
                if got.ok:
                    return got.payload

    async def send(self, payload: bytes, control_id: str, *, retries: int = RETRIES) -> Sent:
        """Send until AA or AR (final answers) or the tries run out."""
        code, text, tries, latency = "", "", 0, 0.0
        for tries in range(1, retries + 2):
            started = time.perf_counter()
            try:
                ack = await self._exchange(payload)
            except (TimeoutError, ConnectionError, OSError) as error:
                await self.close()
                code, text = "", f"{type(error).__name__}"
                await asyncio.sleep(min(0.2 * tries, 1.0))
                continue
            latency = time.perf_counter() - started
            code, acked, text = ack_fields(ack)
            if acked != control_id:
                code, text = "", f"ACK for {acked!r}, not {control_id!r}"
                await self.close()
                continue
            if code in ("AA", "AR"):
                break
            await asyncio.sleep(min(0.2 * tries, 1.0))
        return Sent(control_id, code, text, tries, latency)
