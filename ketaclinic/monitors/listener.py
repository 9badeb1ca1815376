"""The MLLP listener (`ketaclinic monitors listen`): monitors connect as TCP clients (GE:
"the receiving system must be the server"), send ORU^R01 in MLLP frames and wait for ACKs.

asyncio for the connections (an `asyncio.Protocol` each; uvloop with `--loop uvloop`); each
message is read (parsed) on arrival, in the event loop,
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
import collections
import gc
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from django.db import DatabaseError, close_old_connections, connection

from ketaclinic.infusions.services import vitals_autoconfirm_due
from ketaclinic.monitors.feed.ack import build_ack
from ketaclinic.monitors.feed.mllp import DEFAULT_MAX_FRAME, MllpDecoder, frame
from ketaclinic.monitors.feed.parse import Header, decode, header_fallback
from ketaclinic.monitors.services import Incoming, message_read, messages_receive

log = logging.getLogger("ketaclinic.monitors")

AUTOCONFIRM_EVERY_S = 60.0

GC_YOUNG_THRESHOLD = 20_000
"""Allocations between two collections of the youngest generation in a listener process
(Python's default is 700; see `collector_tuned`)."""


def collector_tuned(young: int = GC_YOUNG_THRESHOLD) -> None:
    """Fit Python's cyclic garbage collector to a long-running listener process, once
    it has started. Reading a message and storing a batch make many short-lived objects,
    and a batch's messages live until it is answered. With the defaults the collector ran
    every 700 allocations and kept walking everything made at start-up (Django, the
    modules, the code book: ~127,000 objects), ~17 us of the ~85 us it takes to read a
    message (issue 17; bench/README.md). So:

    - what exists now is frozen (`gc.freeze`): the collector never walks it again (its
      objects are still freed when nothing refers to them; only a reference cycle among
      them would now be kept, and they live as long as the process anyway);
    - the youngest generation is collected after `young` allocations, by which time a
      batch's objects are mostly gone instead of promoted to the older generations.

    The collector still runs: reference cycles made from now on are still freed."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)


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
    _queue: queue.SimpleQueue[_Item | None] = field(default_factory=queue.SimpleQueue)
    """C-implemented (no Python lock and condition per put: the reading thread puts every
    message)."""
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
    """The connections' side: one `MllpConnection` (an `asyncio.Protocol`) per monitor."""

    worker: FeedWorker
    idle_timeout_s: float = 600.0
    """A connection silent this long is closed (GE sends at least every 60 minutes; the
    monitor reconnects)."""
    frame_timeout_s: float = 30.0
    """A frame started and not finished within this is dropped and the connection closed."""
    max_frame: int = DEFAULT_MAX_FRAME
    connections: int = 0

    def protocol(self) -> MllpConnection:
        """The protocol factory for `loop.create_server`."""
        return MllpConnection(self)

    async def serve(self, host: str, port: int, *, reuse_port: bool = False) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(self.protocol, host, port, reuse_port=reuse_port or None)


PAUSE_AT = 16
"""Messages of one connection awaiting their ACK at which its reading is paused (a monitor
waits for each ACK before the next message; this bounds what a misbehaving one can queue)."""


class MllpConnection(asyncio.Protocol):
    """One monitor's connection, driven by callbacks (no task, stream reader or future per
    message: the burst's listener CPU, issue 17). Bytes go through the `MllpDecoder`; each
    whole frame is read and queued for the database thread, which hands its ACK back
    (`_deliver_all`, once a batch); ACKs are written in the order their frames came, a
    refusal (AR, oversize) included. A silent connection is closed after `idle_timeout_s`,
    one stalled inside a frame after `frame_timeout_s` (one timer, re-armed as it fires; not
    counted while ACKs are awaited: those wait on the database thread's hold, not the
    monitor)."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.decoder = MllpDecoder(max_frame=listener.max_frame)
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.slots: collections.deque[list[bytes]] = collections.deque()
        """One per frame awaiting its answer, in arrival order; a slot holds its ACK once
        it is known (an empty list until then)."""
        self.last = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.paused = False
        self.eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; they have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.listener.connections += 1
        self.last = self.loop.time()
        self._arm(self.listener.idle_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections -= 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.transport = None

    def _arm(self, delay: float) -> None:
        self.timer = self.loop.call_later(max(delay, 0.0), self._check_idle)

    def _check_idle(self) -> None:
        self.timer = None
        if self.transport is None:
            return
        listener = self.listener
        timeout = listener.frame_timeout_s if self.decoder.in_frame else listener.idle_timeout_s
        now = self.loop.time()
        if self.slots:  # waiting for the database thread, not for the monitor
            self.last = now
        if now - self.last >= timeout:
            log.info("closing a connection idle for %.0f s", timeout)
            self.transport.close()
            return
        self._arm(self.last + timeout - now)

    def data_received(self, data: bytes) -> None:
        self.last = self.loop.time()
        for got in self.decoder.feed(data):
            if got.ok:
                slot: list[bytes] = []
                self.slots.append(slot)
                self.listener.worker.submit(got.payload, _Deliverer(self, slot))
            elif got.error.startswith("frame restarted"):
                log.info("a frame restarted before its end: dropped, not answered")
            else:
                self.slots.append([_refusal(got.payload, got.error)])
        self._flush()
        if self.decoder.in_frame and self.timer is not None:
            # A frame has started: the (shorter) frame timeout applies from now.
            timeout = self.listener.frame_timeout_s
            if self.timer.when() > self.last + timeout:
                self.timer.cancel()
                self._arm(timeout)

    def answered(self, slot: list[bytes], ack: bytes) -> None:
        """In the event loop: a frame's ACK is known."""
        slot.append(ack)
        self._flush()

    def _flush(self) -> None:
        transport = self.transport
        slots = self.slots
        while slots and slots[0]:
            ack = slots.popleft()[0]
            if transport is not None and not transport.is_closing():
                transport.write(frame(ack))
        if transport is None:
            return
        if self.eof and not slots:
            transport.close()
        elif len(slots) >= PAUSE_AT and not self.paused:
            transport.pause_reading()
            self.paused = True
        elif self.paused and len(slots) < PAUSE_AT:
            transport.resume_reading()
            self.paused = False

    def eof_received(self) -> bool | None:
        if self.slots:
            self.eof = True
            return True  # half-closed: the ACKs still owed are written, then we close
        return None


@dataclass(frozen=True, slots=True)
class _Deliverer:
    """Called in the database thread: hands the ACK to the connection, in its loop."""

    connection: MllpConnection
    slot: list[bytes]

    def __call__(self, ack: bytes) -> None:
        self.connection.loop.call_soon_threadsafe(_settle, [(self, ack)])


def _deliver_all(pairs: list[tuple[Callable[[bytes], None], bytes]]) -> None:
    """Hand a batch's ACKs over: those for an event loop in one call per loop (each
    `call_soon_threadsafe` wakes the loop with a write to its pipe: once a batch, not once a
    message), any other deliverer called as it is."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Deliverer, bytes]]] = {}
    for deliver, ack in pairs:
        if isinstance(deliver, _Deliverer):
            by_loop.setdefault(deliver.connection.loop, []).append((deliver, ack))
        else:
            deliver(ack)
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[_Deliverer, bytes]]) -> None:
    for deliverer, ack in settled:
        deliverer.connection.answered(deliverer.slot, ack)


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
    server = await listener.serve(host, port, reuse_port=reuse_port)
    addresses = ", ".join(str(s.getsockname()[:2]) for s in server.sockets)
    ready(addresses)
    async with server:
        await server.serve_forever()
