"""Every operation of the OpenAPI document lists its error answers with a problem-details
schema (issue 18 item 12): 400/404/422 everywhere, 401/403 where authenticated, 413 where a
body is sent, 409 where documented or an Idempotency-Key is honoured, 429 where the sign-in
lockout or a rate limit can answer, 503 with Retry-After everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.testing import Clinic

PROBLEM = "application/problem+json"


@pytest.fixture
def schema(clinic: Clinic) -> dict[str, Any]:
    response = clinic.api("ada").get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_lists_its_4xx_answers_as_problems(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    assert len(ops) > 70
    missing = []
    for method, path, operation in ops:
        expected = {"400", "404", "422", "503"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if "requestBody" in operation:
            expected.add("413")
        responses = operation["responses"]
        missing += [f"{method.upper()} {path}: {code}" for code in expected - set(responses)]
        for code, answer in responses.items():
            if int(code) >= 400:
                content = answer.get("content", {})
                assert list(content) == [PROBLEM], (method, path, code)
                ref = content[PROBLEM]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[-1]
                assert name == ("ValidationProblem" if code == "422" else "Problem")
    assert missing == []
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


def test_429_is_listed_where_the_lockout_or_a_rate_limit_can_answer(
    schema: dict[str, Any],
) -> None:
    with_429 = {
        (method, path)
        for method, path, operation in operations(schema)
        if "429" in operation["responses"]
    }
    assert {
        ("post", "/api/v1/sessions/{session_id}/dose/second-check"),
        ("post", "/api/v1/ledger/draws/{draw_id}/waste"),
        ("post", "/api/v1/ledger/containers/{container_id}/breakages"),
        ("post", "/api/v1/inquiries"),
    } <= with_429
    for method, path, operation in operations(schema):
        for code in ("429", "503"):
            if code in operation["responses"]:
                assert "Retry-After" in operation["responses"][code]["headers"], (method, path)


def test_documented_409s_are_kept(schema: dict[str, Any]) -> None:
    draw = schema["paths"]["/api/v1/ledger/containers/{container_id}/draws"]["post"]
    assert "409" in draw["responses"]
    assert draw["responses"]["201"]["content"]["application/json"]
