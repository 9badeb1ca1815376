"""The deployment files in deploy/ parse, and every `ketaclinic` command they run exists."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMMAND = re.compile(r"\bketaclinic\s+([a-z_]+)")


def _commands_named(text: str) -> set[str]:
    return set(COMMAND.findall(text))


def _unit(name: str) -> configparser.ConfigParser:
    # systemd allows a key more than once (ExecStart= of a oneshot): keep the last, we read
    # the raw text for the commands.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_the_systemd_units_parse_and_run_commands_that_exist() -> None:
    app = _unit("ketaclinic.service")
    assert app["Service"]["ExecStart"].split()[1:3] == ["serve", "--bind"]
    assert app["Service"]["KillMode"] == "control-group"
    assert app["Install"]["WantedBy"] == "multi-user.target"
    worker = _unit("ketaclinic-worker.service")
    assert worker["Service"]["Type"] == "oneshot"
    timer = _unit("ketaclinic-worker.timer")
    assert timer["Timer"]["OnCalendar"]
    known = set(get_commands())
    for name in ("ketaclinic.service", "ketaclinic-worker.service"):
        named = _commands_named((DEPLOY / "systemd" / name).read_text())
        assert named, name
        assert named <= known, (name, named - known)
    worker_text = (DEPLOY / "systemd" / "ketaclinic-worker.service").read_text()
    assert {"backup", "audit", "ledger"} <= _commands_named(worker_text)


def test_the_compose_file_has_app_worker_database_and_tls_proxy() -> None:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "worker", "db", "proxy"}
    assert services["db"]["image"].endswith("postgres:15")
    assert "caddy" in services["proxy"]["image"]
    # only the proxy is published; the app and database sit on an internal network
    assert [name for name, s in services.items() if s.get("ports")] == ["proxy"]
    assert compose["networks"]["internal"]["internal"] is True
    assert services["app"]["build"]["dockerfile"] == "deploy/Containerfile"
    assert (ROOT / services["app"]["build"]["context"].replace("..", ".")).is_dir()
    known = set(get_commands())
    for name in ("app", "worker"):
        command = services[name]["command"]
        text = " ".join(command) if isinstance(command, list) else str(command)
        named = _commands_named(text)
        assert named, name
        assert named <= known, (name, named - known)
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "reverse_proxy app:8000" in caddy
    assert "--bind 0.0.0.0:8000" in " ".join(services["app"]["command"])


def test_the_containerfile_installs_the_pinned_app_and_serves() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert text.startswith("#") and "\nFROM python:3.11" in text
    assert "-c constraints.txt" in text
    cmd = next(line for line in text.splitlines() if line.startswith("CMD "))
    argv = yaml.safe_load(cmd.removeprefix("CMD "))  # a JSON array is YAML too
    assert argv[:2] == ["ketaclinic", "serve"]
    assert argv[1] in set(get_commands())
    for source in re.findall(r"^COPY (.+) \S+$", text, flags=re.MULTILINE):
        for path in shlex.split(source):
            assert (ROOT / path).exists(), path


def test_the_readme_documents_the_deployment_files() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in (
        "deploy/systemd/ketaclinic.service",
        "deploy/compose.yaml",
        "deploy/Containerfile",
        "ketaclinic backup",
        "ketaclinic restore",
    ):
        assert name in readme, name
