"""Settings from the environment, `ketaclinic serve`, security headers and error pages."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from ketaclinic.testing import Clinic
from ketaclinic.web.management.commands.serve import parse_bind

ROOT = Path(__file__).resolve().parents[3]


def _settings_in_subprocess(
    env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    clean.update({"KETACLINIC_VAR_DIR": str(tmp_path), **env})
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='ketaclinic.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DEBUG, s.SESSION_COOKIE_SECURE, "
        "s.DATABASES['default'].get('OPTIONS', {}).get('transaction_mode'))"
    )
    return subprocess.run(  # noqa: S603  our own interpreter, fixed code
        [sys.executable, "-c", code],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_default_is_sqlite_in_wal_with_a_generated_secret(tmp_path: Path) -> None:
    result = _settings_in_subprocess({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False", "True", "IMMEDIATE"]
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    again = _settings_in_subprocess({}, tmp_path)
    assert again.returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_postgresql_without_a_secret_key_is_refused_outside_debug(tmp_path: Path) -> None:
    env = {"KETACLINIC_DATABASE_URL": "postgresql://u@127.0.0.1:1/none"}
    result = _settings_in_subprocess(env, tmp_path)
    assert result.returncode != 0
    assert "KETACLINIC_SECRET_KEY must be set" in result.stderr
    ok = _settings_in_subprocess({**env, "KETACLINIC_SECRET_KEY": "x" * 50}, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split()[0] == "django.db.backends.postgresql"


def test_a_malformed_boolean_setting_is_refused(tmp_path: Path) -> None:
    result = _settings_in_subprocess({"KETACLINIC_DEBUG": "maybe"}, tmp_path)
    assert result.returncode != 0
    assert "KETACLINIC_DEBUG must be one of" in result.stderr


@pytest.mark.parametrize("bind", ["8000", "localhost", ":8000", "host:99999", "host:x"])
def test_serve_refuses_a_bad_bind(bind: str) -> None:
    with pytest.raises(CommandError, match="HOST:PORT"):
        parse_bind(bind)


def test_serve_parses_host_and_port() -> None:
    assert parse_bind("0.0.0.0:8080") == ("0.0.0.0", 8080)  # noqa: S104
    assert parse_bind("[::1]:8000") == ("::1", 8000)


def test_serve_refuses_to_start_with_unapplied_migrations(transactional_db: None) -> None:
    call_command("migrate", "patients", "zero", verbosity=0)
    try:
        with pytest.raises(CommandError, match=r"unapplied migrations: .*patients\.0001_initial"):
            call_command("serve", "--bind", "127.0.0.1:1", stdout=StringIO())
    finally:
        call_command("migrate", verbosity=0)


def test_pages_carry_security_headers(clinic: Clinic) -> None:
    response = clinic.client("ben").get("/patients/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "cdn" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_load_no_asset_from_another_host(clinic: Clinic) -> None:
    html = clinic.client("ada").get("/patients/").content.decode()
    for marker in ("http://", "https://", 'src="//', 'href="//'):
        assert marker not in html
    static = Client().get("/static/vendor/htmx/htmx.min.js")
    assert static.status_code == 200


@override_settings(DEBUG=False)
def test_error_pages_reveal_nothing(clinic: Clinic) -> None:
    client = clinic.client("ben")
    response = client.get(f"/patients/{clinic.pat.pk}/nonsense/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Error 404" in body
    for leak in ("Traceback", "urlpatterns", "patients/<uuid", str(clinic.pat.pk), "Pat"):
        assert leak not in body


def test_server_errors_show_a_plain_page(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    from ketaclinic.patients import selectors

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail Pat Example")

    monkeypatch.setattr(selectors, "patient_page_for_user", explode)
    client = clinic.client("ben")
    client.raise_request_exception = False
    response = client.get("/patients/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Error 500" in body
    assert "secret detail" not in body
    assert "Pat Example" not in body


def test_healthz_answers_ok(db: None) -> None:
    assert Client().get("/healthz").content == b"ok"
