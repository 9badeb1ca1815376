"""Issue 18 item 10: the audit trail does not take the client's word for who it is.

- The address comes from a configured count of trusted proxies (``KETACLINIC_TRUSTED_PROXIES``):
  the N-th ``X-Forwarded-For`` entry from the right, a valid IP address, else ``REMOTE_ADDR``.
  The left-most entries are whatever the client sent.
- The request id is made by the app; a client's ``X-Request-ID`` never enters the chain.

``KETACLINIC_TRUST_X_FORWARDED_FOR=True`` is what ``KETACLINIC_BEHIND_PROXY=1`` used to set;
it is overridden too, so that these tests describe the same deployment before and after.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import override_settings

from ketaclinic.audit.models import AuditEvent
from ketaclinic.intake.models import Inquiry
from ketaclinic.testing import Clinic

PROXY = "10.0.0.2"
CLIENT = "203.0.113.7"
SPOOF = "198.51.100.66"


def _read_patient_as_ben(clinic: Clinic, **headers: str) -> tuple[AuditEvent, str]:
    response = clinic.client("ben").get(
        f"/patients/{clinic.pat.pk}/", REMOTE_ADDR=PROXY, headers=headers
    )
    assert response.status_code == 200
    event = AuditEvent.objects.filter(object_type="Patient", action="R").order_by("-seq").first()
    assert event is not None
    return event, str(response["X-Request-ID"])


@override_settings(KETACLINIC_TRUSTED_PROXIES=1, KETACLINIC_TRUST_X_FORWARDED_FOR=True)
def test_a_spoofed_left_most_entry_is_not_recorded_behind_one_proxy(clinic: Clinic) -> None:
    event, _ = _read_patient_as_ben(clinic, **{"X-Forwarded-For": f"{SPOOF}, {CLIENT}"})
    assert event.client_address != SPOOF
    assert event.client_address == CLIENT


@override_settings(KETACLINIC_TRUSTED_PROXIES=2, KETACLINIC_TRUST_X_FORWARDED_FOR=True)
def test_behind_two_proxies_the_second_entry_from_the_right_is_recorded(clinic: Clinic) -> None:
    forwarded = f"{SPOOF}, {CLIENT}, 10.0.0.1"
    event, _ = _read_patient_as_ben(clinic, **{"X-Forwarded-For": forwarded})
    assert event.client_address == CLIENT


@pytest.mark.parametrize(
    ("proxies", "forwarded"),
    [
        (1, f"{SPOOF}, not-an-address"),
        (1, f"{SPOOF}, {CLIENT}:443"),
        (1, f"{SPOOF}, "),
        (1, f"{SPOOF}, <script>"),
        (2, CLIENT),  # fewer entries than trusted proxies: it did not come through them
        (1, f"{SPOOF}, 2001:db8::1%eth0"),
    ],
)
def test_garbage_entries_fall_back_to_the_peer_address(
    clinic: Clinic, proxies: int, forwarded: str
) -> None:
    with override_settings(
        KETACLINIC_TRUSTED_PROXIES=proxies, KETACLINIC_TRUST_X_FORWARDED_FOR=True
    ):
        event, _ = _read_patient_as_ben(clinic, **{"X-Forwarded-For": forwarded})
    assert event.client_address == PROXY


@override_settings(KETACLINIC_TRUSTED_PROXIES=1, KETACLINIC_TRUST_X_FORWARDED_FOR=True)
def test_an_ipv6_client_behind_one_proxy_is_recorded(clinic: Clinic) -> None:
    event, _ = _read_patient_as_ben(clinic, **{"X-Forwarded-For": f"{SPOOF}, 2001:db8::7"})
    assert event.client_address == "2001:db8::7"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(clinic: Clinic) -> None:
    event, _ = _read_patient_as_ben(clinic, **{"X-Forwarded-For": f"{SPOOF}, {CLIENT}"})
    assert event.client_address == PROXY


@pytest.mark.parametrize("incoming", ["req-12345678", "a" * 64, "f" * 32])
def test_a_client_request_id_never_becomes_the_audit_request_id(
    clinic: Clinic, incoming: str
) -> None:
    event, answered = _read_patient_as_ben(clinic, **{"X-Request-ID": incoming})
    assert event.request_id != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id)
    assert answered == event.request_id


@override_settings(KETACLINIC_TRUSTED_PROXIES=1, KETACLINIC_TRUST_X_FORWARDED_FOR=True)
def test_the_inquiry_rate_limit_counts_the_trusted_address(clinic: Clinic) -> None:
    response = clinic.client(None).post(
        "/api/v1/inquiries",
        {"name": "Trust Row", "email": "trust@example.org", "consent_to_contact": True},
        content_type="application/json",
        REMOTE_ADDR=PROXY,
        headers={"X-Forwarded-For": f"{SPOOF}, {CLIENT}"},
    )
    assert response.status_code == 201, response.content
    assert Inquiry.objects.get(name="Trust Row").client_address == CLIENT


@override_settings(KETACLINIC_TRUSTED_PROXIES=1, KETACLINIC_TRUST_X_FORWARDED_FOR=True)
def test_the_login_lockout_counts_the_trusted_address(clinic: Clinic) -> None:
    clinic.client(None).post(
        "/account/login/",
        {
            "login_view-current_step": "auth",
            "auth-username": "ben",
            "auth-password": "not the password",
        },
        REMOTE_ADDR=PROXY,
        headers={"X-Forwarded-For": f"{SPOOF}, {CLIENT}"},
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [CLIENT]


def _trusted_proxies_setting(
    env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    clean.update({"KETACLINIC_VAR_DIR": str(tmp_path), **env})
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='ketaclinic.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.KETACLINIC_TRUSTED_PROXIES)"
    )
    return subprocess.run(  # noqa: S603  our own interpreter, fixed code
        [sys.executable, "-c", code],
        env=clean,
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "0"),
        ({"KETACLINIC_BEHIND_PROXY": "1"}, "1"),
        ({"KETACLINIC_BEHIND_PROXY": "1", "KETACLINIC_TRUSTED_PROXIES": "2"}, "2"),
        ({"KETACLINIC_BEHIND_PROXY": "1", "KETACLINIC_TRUSTED_PROXIES": "0"}, "0"),
    ],
)
def test_trusted_proxies_come_from_the_environment(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = _trusted_proxies_setting(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_negative_count_of_trusted_proxies_is_refused(tmp_path: Path) -> None:
    result = _trusted_proxies_setting({"KETACLINIC_TRUSTED_PROXIES": "-1"}, tmp_path)
    assert result.returncode != 0
    assert "KETACLINIC_TRUSTED_PROXIES must be 0 or more" in result.stderr
