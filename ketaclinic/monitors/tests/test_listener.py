"""The listener's connection handling (idle and frame timeouts, oversize frames, several
messages per connection) and its database thread's behaviour when the database is down: held,
then AE, never AA for what was not stored. The database itself is stood in for here; the
drill (`test_drill.py`) does it with real processes and a real PostgreSQL restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from django.db import OperationalError

from ketaclinic.monitors import listener as listener_module
from ketaclinic.monitors.feed import samples
from ketaclinic.monitors.feed.ack import build_ack
from ketaclinic.monitors.feed.client import MonitorLink, ack_fields
from ketaclinic.monitors.feed.mllp import MllpDecoder, frame
from ketaclinic.monitors.feed.parse import header_fallback
from ketaclinic.monitors.listener import FeedWorker, Listener
from ketaclinic.monitors.services import Incoming, Received

NOW = datetime(2026, 12, 2, 10, 15, tzinfo=UTC)


def _message(control: str) -> bytes:
    sample = samples.SAMPLES["ge"]
    return samples.render(sample, now=NOW, nibp=NOW, control=control).encode()


class EchoWorker(FeedWorker):
    """Answers AA at once, without a database."""

    def submit(self, payload: bytes, deliver: Callable[[bytes], None]) -> None:
        header = header_fallback(payload.decode())
        deliver(build_ack(header, code="AA", control_id="T"))


async def _serve(listener: Listener) -> tuple[asyncio.Server, int]:
    server = await listener.serve("127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def _read_frames(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    decoder, got = MllpDecoder(), list[bytes]()
    while len(got) < count:
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        if not chunk:
            break
        got += [f.payload for f in decoder.feed(chunk)]
    return got


def test_several_messages_on_one_connection_each_acknowledged() -> None:
    async def run() -> list[tuple[str, str, str]]:
        server, port = await _serve(Listener(worker=EchoWorker()))
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            stream = b"".join(frame(_message(f"S{n}")) for n in range(3))
            for i in range(0, len(stream), 500):  # split across frames' boundaries
                writer.write(stream[i : i + 500])
                await writer.drain()
            acks = await _read_frames(reader, 3)
            writer.close()
            return [ack_fields(a) for a in acks]

    assert [(code, control) for code, control, _ in asyncio.run(run())] == [
        ("AA", "S0"),
        ("AA", "S1"),
        ("AA", "S2"),
    ]


def test_an_oversize_frame_is_refused_and_the_connection_goes_on() -> None:
    async def run() -> list[tuple[str, str, str]]:
        server, port = await _serve(Listener(worker=EchoWorker(), max_frame=2000))
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            big = b"MSH|^~\\&|X|Y|||2026||ORU^R01|BIG|P|2.6\r" + b"OBX|" * 1000
            writer.write(frame(big) + frame(_message("OK1")))
            await writer.drain()
            acks = await _read_frames(reader, 2)
            writer.close()
            return [ack_fields(a) for a in acks]

    (refused, taken) = asyncio.run(run())
    assert refused[0] == "AR" and refused[1] == "BIG" and "longer than 2000" in refused[2]
    assert taken[:2] == ("AA", "OK1")


def test_acks_keep_the_frames_order_and_are_sent_after_the_monitor_stops_sending() -> None:
    """Frames sent back to back (a refusal between two messages whose ACKs come later, from
    the database thread) are answered in the order they came; a monitor that half-closes
    after sending still gets every ACK it is owed."""

    async def run() -> list[tuple[str, str, str]]:
        server, port = await _serve(Listener(worker=EchoWorker(), max_frame=2000))
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            big = b"MSH|^~\\&|X|Y|||2026||ORU^R01|BIG|P|2.6\r" + b"OBX|" * 1000
            writer.write(frame(_message("P1")) + frame(big) + frame(_message("P2")))
            writer.write_eof()
            acks = await _read_frames(reader, 3)
            writer.close()
            return [ack_fields(a) for a in acks]

    assert [(code, control) for code, control, _ in asyncio.run(run())] == [
        ("AA", "P1"),
        ("AR", "BIG"),
        ("AA", "P2"),
    ]


@pytest.mark.parametrize("partial", [b"", b"\x0bMSH|^~\\&|half a frame"])
def test_idle_and_stalled_connections_are_closed(partial: bytes) -> None:
    async def run() -> bytes:
        listener = Listener(worker=EchoWorker(), idle_timeout_s=0.3, frame_timeout_s=0.3)
        server, port = await _serve(listener)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(partial)
            await writer.drain()
            closed = await asyncio.wait_for(reader.read(100), 5)  # b"": the server closed
            writer.close()
            return closed

    assert asyncio.run(run()) == b""


def _worker_with(
    monkeypatch: pytest.MonkeyPatch, answers: list[Exception | None], hold: float
) -> tuple[FeedWorker, list[int]]:
    calls: list[int] = []

    def fake_receive(items: Sequence[Incoming]) -> list[Received]:
        calls.append(len(items))
        outcome = answers.pop(0) if answers else None
        if outcome is not None:
            raise outcome
        return [
            Received(build_ack(header_fallback(i.raw_text), code="AA", control_id="T"), "AA",
                     "charted", 1)
            for i in items
        ]  # fmt: skip

    monkeypatch.setattr(listener_module, "messages_receive", fake_receive)
    monkeypatch.setattr(listener_module, "close_old_connections", lambda: None)
    monkeypatch.setattr(listener_module, "_reset_connection", lambda: None)
    return FeedWorker(hold_seconds=hold, linger_s=0.0), calls


def _send_through(worker: FeedWorker, controls: list[str]) -> list[tuple[str, str, str]]:
    acks: list[bytes] = []
    done = threading.Event()

    def deliver(ack: bytes) -> None:
        acks.append(ack)
        if len(acks) == len(controls):
            done.set()

    worker.start()
    try:
        for control in controls:
            worker.submit(_message(control), deliver)
        assert done.wait(10)
    finally:
        worker.stop()
    return [ack_fields(a) for a in acks]


def test_a_short_database_outage_is_held_and_then_acknowledged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = OperationalError("server closed the connection unexpectedly")
    worker, calls = _worker_with(monkeypatch, [down, down], hold=5.0)
    acks = _send_through(worker, ["H1"])
    assert acks[0][:2] == ("AA", "H1")
    assert calls == [1, 1, 1]  # two failed tries, then stored
    assert worker.stats["database_errors"] == 2


def test_a_long_database_outage_is_answered_ae_never_aa(monkeypatch: pytest.MonkeyPatch) -> None:
    down = OperationalError("connection refused")
    worker, _ = _worker_with(monkeypatch, [down] * 100, hold=0.3)
    acks = _send_through(worker, ["L1", "L2"])
    assert {code for code, _, _ in acks} == {"AE"}
    assert sorted(control for _, control, _ in acks) == ["L1", "L2"]
    assert all("database unavailable" in text for _, _, text in acks)


def test_the_monitor_resends_after_ae_until_aa() -> None:
    answers = iter(["AE", "AE", "AA"])

    class Flaky(FeedWorker):
        def submit(self, payload: bytes, deliver: Callable[[bytes], None]) -> None:
            deliver(
                build_ack(header_fallback(payload.decode()), code=next(answers), control_id="T")
            )

    async def run() -> tuple[str, int]:
        server, port = await _serve(Listener(worker=Flaky()))
        async with server:
            link = MonitorLink("127.0.0.1", port)
            sent = await link.send(_message("R1"), "R1")
            await link.close()
            return sent.ack_code, sent.tries

    assert asyncio.run(run()) == ("AA", 3)


def test_the_linger_is_an_option_of_listen_and_of_every_worker_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`monitors listen --linger MS`: the group-commit window (milliseconds) reaches the
    database thread of this process and of each other `--workers` process."""
    from ketaclinic.monitors.management.commands import monitors as command

    cmd = command.Command()
    parser = cmd.create_parser("ketaclinic", "monitors")
    options = vars(parser.parse_args(["listen", "--linger", "5", "--workers", "3"]))
    assert options["linger"] == 5.0
    assert vars(parser.parse_args(["listen"]))["linger"] == 2.0  # FeedWorker's default

    started: list[list[str]] = []

    class FakePopen:
        def __init__(self, argv: list[str], **_kwargs: object) -> None:
            started.append(argv)

    monkeypatch.setattr("subprocess.Popen", FakePopen)
    cmd._children(options)
    assert len(started) == 2
    assert all(argv[argv.index("--linger") + 1] == "5.0" for argv in started)
    assert FeedWorker().linger_s == 0.002


_COLLECTOR_PROBE = """
import gc, json, weakref
import django
django.setup()
from ketaclinic.monitors.listener import GC_YOUNG_THRESHOLD, collector_tuned

before = {"frozen": gc.get_freeze_count(), "young": gc.get_threshold()[0]}
collector_tuned()
after = {"frozen": gc.get_freeze_count(), "young": gc.get_threshold()[0]}

class Node:
    pass

# A reference cycle made after tuning, then dropped, and many more allocations after it
# (each cycle two containers: more than the young threshold): freed by the collector's own
# run, without gc.collect().
node = Node()
node.me = node
gone = weakref.ref(node)
del node
for _ in range(GC_YOUNG_THRESHOLD):
    other = Node()
    other.me = other
print(json.dumps({"before": before, "after": after, "cycle_freed": gone() is None,
                  "threshold": GC_YOUNG_THRESHOLD}))
"""


def test_the_collector_is_tuned_and_still_frees_cycles() -> None:
    """`collector_tuned` (run by every listener process): what exists at start-up is frozen,
    the youngest generation waits for GC_YOUNG_THRESHOLD allocations, and a reference cycle
    made afterwards is still freed by the collector running on its own (in a subprocess: the
    collector's state is the whole process's)."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ketaclinic.settings"}
    env.setdefault("KETACLINIC_SECRET_KEY", "test-only")
    done = subprocess.run(  # noqa: S603 - this interpreter, our own probe
        [sys.executable, "-c", _COLLECTOR_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"]["frozen"] == 0
    assert seen["before"]["young"] < seen["threshold"]  # Python's default: 700 on 3.11
    assert seen["after"]["frozen"] > 10_000  # Django and the app, at least
    assert seen["after"]["young"] == seen["threshold"] == listener_module.GC_YOUNG_THRESHOLD
    assert seen["cycle_freed"] is True


def test_listen_tunes_the_collector_in_its_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """`monitors listen` calls `collector_tuned` once its process has started (each
    `--workers` process runs the same command, so each is tuned)."""
    from ketaclinic.monitors.management.commands import monitors as command

    calls: list[str] = []
    monkeypatch.setattr(command, "collector_tuned", lambda: calls.append("tuned"))
    monkeypatch.setattr(FeedWorker, "start", lambda self: calls.append("worker started"))
    monkeypatch.setattr(FeedWorker, "stop", lambda self: None)

    def not_served(main: object) -> None:
        main.close()  # type: ignore[attr-defined]  # the coroutine, never started
        calls.append("served")

    monkeypatch.setattr("asyncio.run", not_served)
    cmd = command.Command()
    options = vars(cmd.create_parser("ketaclinic", "monitors").parse_args(["listen"]))
    cmd._listen(options)
    assert calls == ["worker started", "tuned", "served"]
