"""`make run` serves the demo clinic: the same steps, through the console script and granian."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("ketaclinic")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  loopback only
        return int(response.status), response.read()


def test_makefile_run_target_migrates_loads_the_demo_and_serves() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    steps = re.findall(r"ketaclinic (\w+)", run)
    assert steps == ["migrate", "demo", "serve"]
    assert "--bind 127.0.0.1:8000" in run
    # It names the public site and the sign-in page (issue 13 item 10).
    assert "http://127.0.0.1:8000/" in run and "http://127.0.0.1:8000/account/login/" in run


def test_make_run_installs_only_what_the_app_needs_and_make_test_adds_the_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run_needs = makefile.split("\nrun:", 1)[1].split("\n", 1)[0].split()
    assert run_needs == ["$(APP_STAMP)"]
    app_recipe = makefile.split("\n$(APP_STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "-e ." in app_recipe and "[dev]" not in app_recipe
    dev_recipe = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "-e '.[dev]'" in dev_recipe
    for target in ("test", "lint", "types", "pytest"):
        line = makefile.split(f"\n{target}:", 1)[1].split("\n", 1)[0]
        assert "$(STAMP)" in line or target == "test", target


def test_the_run_steps_serve_the_demo_clinic(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env.update({"KETACLINIC_VAR_DIR": str(tmp_path), "KETACLINIC_SECURE_COOKIES": "0"})
    for args in (["migrate", "--noinput"], ["demo"]):
        result = subprocess.run(  # noqa: S603  our own console script
            [str(SCRIPT), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert "Logins (password for all:" in result.stdout
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [str(SCRIPT), "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(base + "/healthz")
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.2)
        assert (status, body) == (200, b"ok")
        status, body = _get(base + "/account/login/")
        assert status == 200
        assert b"KetaClinic" in body
        status, body = _get(base + "/static/vendor/pico/pico.min.css")
        assert status == 200
        assert len(body) > 10_000
    finally:
        server.terminate()
        server.wait(timeout=30)
