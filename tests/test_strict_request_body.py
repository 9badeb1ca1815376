"""Issue 18 items 4 and 8: one strict reader for every JSON API and FHIR body.

On main, the Ninja endpoints took any Content-Type (none, ``text/plain``, a form), any charset
(``iso-8859-1`` was not honoured), a byte-order mark and UTF-16; a NUL or a lone surrogate got
a 422 only where a field's type happened to check it. A chunked body (no Content-Length) was
read as empty: a valid vitals post sent chunked answered 422 "Field required".
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from ketaclinic.infusions.models import VitalsReading
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.intake.models import Inquiry
from ketaclinic.lib.strict_json import NUL_MESSAGE, SURROGATE_MESSAGE
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = "/api/v1/patients"
INQUIRIES = "/api/v1/inquiries"
PATIENT = {
    "given_name": "Avery",
    "family_name": "Testcase",
    "birth_date": "1990-01-31",
    "sex_at_birth": "female",
}
INQUIRY = {"name": "Robin Asker", "email": "robin@example.org", "consent_to_contact": True}
UTF8 = json.dumps(PATIENT | {"family_name": "Müller"}, ensure_ascii=False).encode()


def _raw_post(client: Client, path: str, body: bytes, content_type: str | None) -> Any:
    """A POST with exactly these bytes and this Content-Type header (None: no header)."""
    environ: dict[str, Any] = {
        "PATH_INFO": path,
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    return client.request(**environ)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert response["X-Request-ID"]  # traceable like any other answer
    return body


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, UTF8),
        ("text/plain", UTF8),
        ("application/x-www-form-urlencoded", UTF8),
        ("application/json; charset=iso-8859-1", json.dumps(PATIENT).encode("latin-1")),
        ("application/json; charset=utf-16", json.dumps(PATIENT).encode("utf-16")),
        ("application/json", json.dumps(PATIENT).encode("utf-16")),  # with its BOM
        ("application/json", json.dumps(PATIENT).encode("utf-16-le")),  # without
        ("application/json", json.dumps(PATIENT).encode("utf-32")),
        ("application/json", b"\xef\xbb\xbf" + UTF8),  # a UTF-8 byte-order mark
        ("application/json", UTF8.replace("ü".encode(), b"\xfc")),  # Latin-1 bytes, unlabelled
    ],
    ids=[
        "none",
        "text_plain",
        "form",
        "latin1",
        "utf16_label",
        "utf16_bom",
        "utf16_no_bom",
        "utf32",
        "utf8_bom",
        "latin1_bytes",
    ],
)
def test_a_body_that_is_not_labelled_utf8_json_is_415_and_stores_nothing(
    clinic: Clinic, content_type: str | None, body: bytes
) -> None:
    before = Patient.objects.count()
    response = _raw_post(clinic.api("ada"), PATIENTS, body, content_type)
    problem = _problem(response, 415)
    assert problem["title"] == "Unsupported Media Type"
    assert Patient.objects.count() == before


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=UTF-8"])
def test_utf8_json_is_taken(clinic: Clinic, content_type: str) -> None:
    response = clinic.api("ada").generic("POST", PATIENTS, UTF8, CONTENT_TYPE=content_type)
    assert response.status_code == 201, response.content
    assert Patient.objects.get(pk=response.json()["id"]).family_name == "Müller"


def test_a_post_without_a_body_needs_no_content_type(clinic: Clinic) -> None:
    chart = chart_for(clinic)
    response = chart.ben.generic("POST", f"{chart.url}/check-in")  # Content-Length: 0
    assert response.status_code == 200, response.content
    # A multipart body without a single part (the test client's post() without data) is none.
    assert chart.ben.post(f"{chart.url}/check-in").status_code != 415


@pytest.mark.parametrize(
    ("url", "body", "field", "message"),
    [
        (PATIENTS, PATIENT | {"given_name": "Av\x00ery"}, "given_name", NUL_MESSAGE),
        (PATIENTS, PATIENT | {"family_name": "Test\ud800"}, "family_name", SURROGATE_MESSAGE),
        (INQUIRIES, INQUIRY | {"message": "hi\ud800"}, "message", SURROGATE_MESSAGE),
        (INQUIRIES, INQUIRY | {"concerns": ["ocd", "x\x00"]}, "concerns[1]", NUL_MESSAGE),
    ],
    ids=["patient_nul", "patient_surrogate", "inquiry_surrogate", "inquiry_list_nul"],
)
def test_nul_or_a_lone_surrogate_is_400_naming_the_field_on_every_endpoint(
    clinic: Clinic, url: str, body: dict[str, Any], field: str, message: str
) -> None:
    before = (Patient.objects.count(), Inquiry.objects.count())
    response = clinic.api("ada").post(url, json.dumps(body), content_type="application/json")
    problem = _problem(response, 400)
    assert [(e["field"], e["msg"]) for e in problem["errors"]] == [(field, message)]
    assert (Patient.objects.count(), Inquiry.objects.count()) == before


def test_deep_nesting_is_400_on_a_ninja_endpoint(clinic: Clinic) -> None:
    body = b'{"given_name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = clinic.api("ada").post(PATIENTS, body, content_type="application/json")
    assert "deeper" in _problem(response, 400)["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
def test_a_body_over_the_limit_is_413_problem_details(clinic: Clinic) -> None:
    body = json.dumps(PATIENT | {"address": "x" * 2_000})
    response = clinic.api("ada").post(PATIENTS, body, content_type="application/json")
    _problem(response, 413)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/fhir+json; charset=iso-8859-1", b'{"resourceType": "Questionnaire"}'),
        ("application/fhir+json", b'\xef\xbb\xbf{"resourceType": "Questionnaire"}'),
        ("application/json", '{"resourceType": "Questionnaire"}'.encode("utf-16")),
        ("text/plain", b'{"resourceType": "Questionnaire"}'),
    ],
    ids=["latin1", "utf8_bom", "utf16", "text_plain"],
)
def test_fhir_answers_415_operation_outcome_for_a_body_not_in_utf8(
    clinic: Clinic, content_type: str, body: bytes
) -> None:
    response = clinic.api("dana").generic(
        "POST", "/fhir/R4/Questionnaire", body, CONTENT_TYPE=content_type
    )
    assert response.status_code == 415, response.content
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-supported"


# Item 8: chunked bodies.


def _chunked(client: Client, path: str, body: bytes, content_type: str) -> Any:
    """A request as a WSGI server passes a chunked one: Transfer-Encoding set, no
    Content-Length, the de-chunked bytes on ``wsgi.input`` until its end."""
    return client.request(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=content_type,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
    )


@pytest.fixture
def infusing(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> Chart:
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(clinic)
    chart.infusing()
    return chart


def test_a_chunked_vitals_post_is_read_and_stored(infusing: Chart) -> None:
    body = {
        "at": timezone.now().isoformat(),
        "systolic": 190,
        "diastolic": 80,
        "heart_rate": 72,
        "spo2": 98,
        "resp_rate": 14,
    }
    before = VitalsReading.objects.count()
    response = _chunked(
        infusing.ben, f"{infusing.url}/vitals", json.dumps(body).encode(), "application/json"
    )
    assert response.status_code == 201, response.content
    assert [a["code"] for a in response.json()["alerts"]] == ["sbp_high"]
    assert VitalsReading.objects.count() == before + 1
    assert VitalsReading.objects.order_by("-pk").values_list("systolic_mmhg", flat=True)[0] == 190


def test_a_chunked_body_is_checked_like_any_other(clinic: Clinic) -> None:
    response = _chunked(clinic.api("ada"), PATIENTS, json.dumps(PATIENT).encode(), "text/plain")
    _problem(response, 415)
    response = _chunked(
        clinic.api("ada"), PATIENTS, json.dumps(PATIENT).encode(), "application/json"
    )
    assert response.status_code == 201, response.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100_000)
def test_a_chunked_body_over_the_limit_is_413_not_read_to_its_end(clinic: Clinic) -> None:
    stream = io.BytesIO(b'{"given_name": "' + b"x" * 10_000_000 + b'"}')
    response = clinic.api("ada").request(
        PATH_INFO=PATIENTS,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream},
    )
    _problem(response, 413)
    assert stream.tell() < 1_000_000  # stopped soon after the limit


def test_a_chunked_page_form_is_read_too(db: None) -> None:
    form = (
        "name=Robin+Asker&email=robin%40example.org&preferred_contact=email&consent_to_contact=on"
    )
    response = _chunked(
        Client(), "/clinic/inquiry/", form.encode(), "application/x-www-form-urlencoded"
    )
    assert response.status_code == 302, response.content[:500]
    assert Inquiry.objects.get().name == "Robin Asker"


# The same, through a real `ketaclinic serve` (granian) and a raw socket.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    values = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{values['NAME']}"
    host = values["HOST"] or "127.0.0.1"
    return f"postgresql://{values['USER']}@{host}:{values['PORT'] or 5432}/{values['NAME']}"


@pytest.fixture
def served(transactional_db: None, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env |= {
        "KETACLINIC_DATABASE_URL": _database_url(),
        "KETACLINIC_SECRET_KEY": "x" * 50,
        "KETACLINIC_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
    }
    command = [sys.executable, "-m", "django", "serve", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(  # noqa: S603  our own interpreter and command
        [*command, "--workers", "1", "--threads", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _raw_chunked_post(port: int, path: str, body: bytes) -> bytes:
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n"
        for part in (body[i : i + 7] for i in range(0, len(body), 7))
    )
    request = (
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while block := sock.recv(65536):
            answer += block
    return answer


def test_a_raw_chunked_post_to_a_served_app_is_stored(served: int) -> None:
    answer = _raw_chunked_post(served, INQUIRIES, json.dumps(INQUIRY).encode())
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert Inquiry.objects.get().email == "robin@example.org"
