"""`ketaclinic monitors listen --bind HOST:PORT` runs the MLLP listener;
`ketaclinic monitors simulate --chair N` is a bedside monitor sending ORU^R01 to it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import subprocess
import sys
from datetime import timedelta
from typing import Any

import uvloop
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ketaclinic.courses.models import Chair
from ketaclinic.monitors.feed import samples
from ketaclinic.monitors.feed.client import MonitorLink
from ketaclinic.monitors.listener import FeedWorker, Listener, collector_tuned, listen
from ketaclinic.monitors.models import MonitorDevice


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


class Command(BaseCommand):
    help = "Bedside-monitor feed: `listen` (the MLLP server) and `simulate` (a monitor)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        lis = sub.add_parser("listen", help="Take ORU^R01 over MLLP and chart the readings.")
        lis.add_argument("--bind", default="127.0.0.1:2575", help="HOST:PORT (2575: HL7's port)")
        lis.add_argument("--idle-timeout", type=float, default=600.0, help="seconds")
        lis.add_argument("--frame-timeout", type=float, default=30.0, help="seconds")
        lis.add_argument(
            "--hold",
            type=float,
            default=5.0,
            help="seconds to hold a batch while the database is down, then AE",
        )
        lis.add_argument("--batch", type=int, default=200, help="messages per transaction")
        lis.add_argument(
            "--linger",
            type=float,
            default=2.0,
            help="ms to wait for more messages once one has arrived (one commit for them all)",
        )
        lis.add_argument("--max-frame", type=int, default=1_000_000, help="bytes")
        lis.add_argument(
            "--workers",
            type=int,
            default=1,
            help="listener processes sharing the port (SO_REUSEPORT), one per core",
        )
        lis.add_argument(
            "--loop",
            choices=("asyncio", "uvloop"),
            default="asyncio",
            help="event loop: uvloop spends less CPU a message in a burst, but showed a longer "
            "steady ACK tail on the shared bench machine (bench/README.md, issue 17)",
        )
        lis.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
        sim = sub.add_parser("simulate", help="Send realistic ORU^R01 as the chair's monitor.")
        sim.add_argument("--chair", required=True, help="the chair's id or name")
        sim.add_argument("--to", default="127.0.0.1:2575", help="the listener's HOST:PORT")
        sim.add_argument("--interval", type=float, default=60.0, help="seconds between messages")
        sim.add_argument("--count", type=int, default=0, help="messages to send (0: until stopped)")
        sim.add_argument("--spo2", type=int, default=None, help="hold SpO2 at this value")
        sim.add_argument(
            "--quirks",
            action="store_true",
            help="every 4th message a quirky one (sentinels, vendor oddities)",
        )
        sim.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "listen":
            self._listen(options)
        else:
            self._simulate(options)

    def _listen(self, options: dict[str, Any]) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        host, port = _address(options["bind"])
        worker = FeedWorker(
            batch_max=options["batch"],
            hold_seconds=options["hold"],
            linger_s=max(0.0, float(options["linger"])) / 1000,
        )
        listener = Listener(
            worker=worker,
            idle_timeout_s=options["idle_timeout"],
            frame_timeout_s=options["frame_timeout"],
            max_frame=options["max_frame"],
        )
        children = self._children(options)
        worker.start()
        collector_tuned()  # in this process and (each runs this command) every worker's

        def ready(addresses: str) -> None:
            self.stdout.write(f"listening on {addresses}")
            self.stdout.flush()

        async def main() -> None:
            reuse = options["reuse_port"] or options["workers"] > 1
            task = asyncio.ensure_future(
                listen(host, port, listener, ready=ready, reuse_port=reuse)
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, task.cancel)
            with contextlib.suppress(asyncio.CancelledError):
                await task

        try:
            if options["loop"] == "uvloop":
                uvloop.run(main())
            else:
                asyncio.run(main())
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
            worker.stop()
            self.stdout.write(f"stopped: {worker.stats}")

    def _children(self, options: dict[str, Any]) -> list[subprocess.Popen[bytes]]:
        """The other listener processes of `--workers N` (this one is the first)."""
        count = max(0, int(options["workers"]) - 1)
        argv = [
            sys.executable, "-m", "ketaclinic", "monitors", "listen",
            "--bind", options["bind"], "--workers", "1", "--reuse-port",
            "--idle-timeout", str(options["idle_timeout"]),
            "--frame-timeout", str(options["frame_timeout"]),
            "--hold", str(options["hold"]), "--batch", str(options["batch"]),
            "--linger", str(options["linger"]),
            "--max-frame", str(options["max_frame"]), "--loop", options["loop"],
        ]  # fmt: skip
        # Our own console script with our own options: no outside input in the command.
        return [
            subprocess.Popen(argv, stdout=subprocess.DEVNULL)  # noqa: S603
            for _ in range(count)
        ]

    def _simulate(self, options: dict[str, Any]) -> None:
        chair_ref = str(options["chair"])
        chair = (
            Chair.objects.filter(pk=int(chair_ref)).first() if chair_ref.isdigit() else None
        ) or Chair.objects.filter(name=chair_ref).first()
        if chair is None:
            raise CommandError(f"no chair {chair_ref!r}")
        device = MonitorDevice.objects.filter(chair=chair, active=True).first()
        if device is None:
            raise CommandError(
                f"no monitor is registered to {chair.name}: register one (Monitors, devices)"
            )
        host, port = _address(options["to"])
        rng = random.Random(options["seed"])  # noqa: S311 - simulated vital signs, not secrets
        count = options["count"]
        asyncio.run(
            simulate(
                host,
                port,
                device_id=device.device_id,
                facility=device.sending_facility or "KETACLINIC-DEMO",
                bed=chair.name,
                interval=options["interval"],
                count=count,
                spo2=options["spo2"],
                quirks=options["quirks"],
                rng=rng,
                out=self.stdout.write,
            )
        )


async def simulate(
    host: str,
    port: int,
    *,
    device_id: str,
    facility: str,
    bed: str,
    interval: float,
    count: int,
    spo2: int | None,
    quirks: bool,
    rng: random.Random,
    out: Any = sys.stdout.write,
) -> int:
    """Send `count` messages (0: forever), one per `interval`; returns how many got AA."""
    link = MonitorLink(host, port)
    hr, sat, rr, sys_bp, dia = 74.0, 97.0, 14.0, 122.0, 78.0
    cuff_at = timezone.now().replace(microsecond=0)
    accepted, sent = 0, 0
    try:
        while count == 0 or sent < count:
            now = timezone.now().replace(microsecond=0)
            hr = min(105.0, max(55.0, hr + rng.uniform(-3, 3)))
            sat = min(100.0, max(93.0, sat + rng.uniform(-1, 1)))
            rr = min(20.0, max(10.0, rr + rng.uniform(-1, 1)))
            if sent % 5 == 0:  # a cuff every fifth message, at its own time
                sys_bp = min(150.0, max(100.0, sys_bp + rng.uniform(-6, 6)))
                dia = min(95.0, max(60.0, dia + rng.uniform(-4, 4)))
                cuff_at = now - timedelta(seconds=20)
            name = "ge"
            if quirks and sent % 4 == 3:
                name = rng.choice(["sentinels", "vendor", "waveform"])
            control = f"SIM{now:%H%M%S}{sent:05d}"
            text = samples.render(
                samples.SAMPLES[name],
                now=now,
                nibp=cuff_at,
                control=control,
                facility=facility,
                device=device_id,
                bed=bed,
                hr=round(hr),
                spo2=spo2 if spo2 is not None else round(sat),
                rr=round(rr),
                sys=round(sys_bp),
                dia=round(dia),
            )
            result = await link.send(text.encode("utf-8"), control)
            sent += 1
            accepted += result.ack_code == "AA"
            out(f"{control} {name} -> {result.ack_code or 'no ACK'} {result.text}\n")
            if count == 0 or sent < count:
                await asyncio.sleep(interval)
    finally:
        await link.close()
    return accepted
