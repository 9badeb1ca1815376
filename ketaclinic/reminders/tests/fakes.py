"""Real servers for the reminder tests: a fake Twilio-shaped SMS provider (an HTTP server on a
local port that records each request and can be told to answer errors or to be slow) and an
SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class SmsRequest:
    path: str
    auth: str
    form: dict[str, str]


@dataclass
class FakeSmsProvider:
    """Answers 201 with a sid, unless `fail_next` holds status codes to answer first (one per
    request) or `delay` makes it slow."""

    requests: list[SmsRequest] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    delay: float = 0.0
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        raw = handler.rfile.read(length).decode()
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
        with self.lock:
            status = self.fail_next.pop(0) if self.fail_next else 201
            if status == 201:
                self.requests.append(
                    SmsRequest(handler.path, handler.headers.get("Authorization", ""), form)
                )
        if self.delay:
            time.sleep(self.delay)
        body = (
            {"sid": f"SM{uuid.uuid4().hex}", "status": "queued"}
            if status == 201
            else {"code": status, "message": "fake provider error"}
        )
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up waiting (the timeout tests)

    def bodies_to(self, number: str) -> list[str]:
        with self.lock:
            return [r.form["Body"] for r in self.requests if r.form.get("To") == number]


@contextmanager
def fake_sms_provider() -> Iterator[FakeSmsProvider]:
    provider = FakeSmsProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            provider.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def basic_auth(sid: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.reply: str | None = None  # e.g. "451 try later": refuse the next DATA
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.reply is not None:
                reply, self.reply = self.reply, None
                return reply
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")
