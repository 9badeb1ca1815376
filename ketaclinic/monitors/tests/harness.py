"""The listener in a background thread of the test process, on a free port, sharing the test
database (an in-memory SQLite connection is shared the way Django's live server shares it)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from ketaclinic.monitors.listener import FeedWorker, Listener


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def listener_running() -> Iterator[int]:
    """Yields the port; stops the server and the database thread afterwards."""
    shared = connections["default"]
    share = shared.vendor == "sqlite" and shared.is_in_memory_db()  # type: ignore[attr-defined]

    def use_shared() -> None:
        connections["default"] = shared

    if share:
        shared.inc_thread_sharing()
    worker = FeedWorker(linger_s=0.0, on_thread_start=use_shared if share else None)
    worker.start()
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}

    async def serve() -> None:
        holder["server"] = await Listener(worker=worker).serve("127.0.0.1", port)
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    started.wait(10)
    try:
        yield port
    finally:
        server = holder["server"]
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        worker.stop()
        if share:
            shared.dec_thread_sharing()
