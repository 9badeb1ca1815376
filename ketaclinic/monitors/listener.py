"""The MLLP listener (`ketaclinic monitors listen`): monitors connect as TCP clients (GE:
"the receiving system must be the server"), send ORU^R01 in MLLP frames and wait for ACKs.

asyncio for the connections; each message is read (parsed) on arrival, in the event loop,
so that reading overlaps the database work; one database thread takes what has arrived from
every connection as a batch (`services.messages_receive`, one transaction: group commit) and
hands the ACKs back.
An ACK AA is written only after that transaction committed. When the database is down the
batch is held and retried for `hold_seconds`, then answered AE ("send again"): never AA for
what was not stored. A resent message is charted once (each reading set has a key).

Nothing about a patient is logged: counts, codes and reasons only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, close_old_connections, connection

from ketaclinic.infusions.services import vitals_autoconfirm_due
from ketaclinic.monitors.feed.ack import build_ack
from ketaclinic.monitors.feed.mllp import DEFAULT_MAX_FRAME, MllpDecoder, frame
from ketaclinic.monitors.feed.parse import Header, decode, header_fallback
from ketaclinic.monitors.services import Incoming, message_read, messages_receive

log = logging.getLogger("ketaclinic.monitors")

AUTOCONFIRM_EVERY_S = 60.0


@dataclass
class _Item:
    message: Incoming
    deliver: Callable[[bytes], None]


@dataclass
class FeedWorker:
    """The database thread: batches of up to `batch_max` messages, one transaction each."""

    batch_max: int = 200
    hold_seconds: float = 5.0
    linger_s: float = 0.002
    """How long to wait for more messages once one has arrived (group commit)."""
    stats: dict[str, int] = field(default_factory=dict)
    on_thread_start: Callable[[], None] | None = None
    """Run first in the database thread (tests share an in-memory SQLite connection)."""
    _queue: queue.Queue[_Item | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="monitor-feed-db", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def submit(self, payload: bytes, deliver: Callable[[bytes], None]) -> None:
        """Read the message and queue it for the next batch. Reading is done here, in the
        caller's thread (the event loop's), not in the database thread: it overlaps the
        database work of the batch before."""
        self._queue.put(_Item(message_read(payload), deliver))

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def _run(self) -> None:
        if self.on_thread_start is not None:
            self.on_thread_start()
        last_autoconfirm = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=1.0)
            except queue.Empty:
                item = _IDLE
            if item is None:
                break
            batch: list[_Item] = [] if item is _IDLE else [item]
            if batch:
                deadline = time.monotonic() + self.linger_s
                while len(batch) < self.batch_max:
                    try:
                        more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)
                        break
                    batch.append(more)
                self._process(batch)
            if time.monotonic() - last_autoconfirm > AUTOCONFIRM_EVERY_S:
                last_autoconfirm = time.monotonic()
                self._autoconfirm()
        connection.close()

    def _autoconfirm(self) -> None:
        try:
            confirmed = vitals_autoconfirm_due()
        except DatabaseError:
            _reset_connection()
            return
        if confirmed:
            log.info("auto-confirmed %d monitor readings", confirmed)

    def _process(self, batch: list[_Item]) -> None:
        give_up = time.monotonic() + self.hold_seconds
        pause = 0.1
        while True:
            try:
                close_old_connections()
                results = messages_receive([i.message for i in batch])
            except DatabaseError as error:
                _reset_connection()
                self._count("database_errors")
                if time.monotonic() >= give_up:
                    log.warning(
                        "database unavailable (%s): %d messages answered AE",
                        type(error).__name__,
                        len(batch),
                    )
                    nak = "database unavailable: send again"
                    _deliver_all([(item.deliver, _nak(item.message.header, nak)) for item in batch])
                    self._count("ae", len(batch))
                    return
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
                continue
            break
        for result in results:
            self._count(result.ack_code.lower())
            self._count("readings", result.readings)
        _deliver_all([(item.deliver, r.ack) for item, r in zip(batch, results, strict=True)])


_IDLE = _Item(Incoming("", Header()), lambda _ack: None)


def _reset_connection() -> None:
    try:
        connection.close()
    except DatabaseError:
        connection.connection = None


def _nak(header: Header, text: str) -> bytes:
    return build_ack(header, code="AE", text=text, error_code="207", control_id="KETACLINIC")


def _refusal(prefix: bytes, text: str) -> bytes:
    header = header_fallback(decode(prefix)[0])
    return build_ack(header, code="AR", text=text, error_code="100", control_id="KETACLINIC")


@dataclass
class Listener:
    worker: FeedWorker
    idle_timeout_s: float = 600.0
    """A connection silent this long is closed (GE sends at least every 60 minutes; the
    monitor reconnects)."""
    frame_timeout_s: float = 30.0
    """A frame started and not finished within this is dropped and the connection closed."""
    max_frame: int = DEFAULT_MAX_FRAME
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        decoder = MllpDecoder(max_frame=self.max_frame)
        self.connections += 1
        try:
            while True:
                timeout = self.frame_timeout_s if decoder.in_frame else self.idle_timeout_s
                try:
                    # asyncio.timeout, not wait_for: no task made for every read.
                    async with asyncio.timeout(timeout):
                        chunk = await reader.read(65536)
                except TimeoutError:
                    log.info("closing a connection idle for %.0f s", timeout)
                    break
                if not chunk:
                    break
                for got in decoder.feed(chunk):
                    if got.ok:
                        future: asyncio.Future[bytes] = loop.create_future()
                        self.worker.submit(got.payload, _deliverer(loop, future))
                        ack = await future
                    elif got.error.startswith("frame restarted"):
                        log.info("a frame restarted before its end: dropped, not answered")
                        continue
                    else:
                        ack = _refusal(got.payload, got.error)
                    writer.write(frame(ack))
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.connections -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


@dataclass(frozen=True)
class _Deliverer:
    """Called in the database thread: hands the ACK to the connection's coroutine."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bytes]

    def __call__(self, ack: bytes) -> None:
        self.loop.call_soon_threadsafe(_settle, [(self.future, ack)])


def _deliverer(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[bytes]
) -> Callable[[bytes], None]:
    return _Deliverer(loop, future)


def _deliver_all(pairs: list[tuple[Callable[[bytes], None], bytes]]) -> None:
    """Hand a batch's ACKs over: those for an event loop in one call per loop (each
    `call_soon_threadsafe` wakes the loop with a write to its pipe: once a batch, not once a
    message), any other deliverer called as it is."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bytes], bytes]]] = {}
    for deliver, ack in pairs:
        if isinstance(deliver, _Deliverer):
            by_loop.setdefault(deliver.loop, []).append((deliver.future, ack))
        else:
            deliver(ack)
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[bytes], bytes]]) -> None:
    for future, ack in settled:
        if not future.done():
            future.set_result(ack)


async def listen(
    host: str,
    port: int,
    listener: Listener,
    *,
    ready: Callable[[str], None],
    reuse_port: bool = False,
) -> None:
    """Serve until cancelled. With `reuse_port`, several listener processes share the port
    (the kernel spreads connections over them; each has its own database thread)."""
    server = await asyncio.start_server(
        listener.handle, host, port, limit=2**20, reuse_port=reuse_port or None
    )
    addresses = ", ".join(str(s.getsockname()[:2]) for s in server.sockets)
    ready(addresses)
    async with server:
        await server.serve_forever()
