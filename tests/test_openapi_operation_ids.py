"""The OpenAPI document's operationIds survive moving the API modules (issue 11): clients
generated from the schema name their calls by them. Django Ninja derives an id from the view's
module, so a module that moved pins the ids it had before."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

# tag -> the module the operations lived in before the layout change
BEFORE_THE_MOVE = {
    "session chart": "ketaclinic_infusions_chart_api_",
    "ledger": "ketaclinic_ledger_api_",
}


@pytest.fixture(scope="module")
def operations() -> list[dict[str, Any]]:
    schema = Client().get("/api/v1/openapi.json").json()
    return [op for ops in schema["paths"].values() for op in ops.values()]


@pytest.mark.parametrize(("tag", "prefix"), sorted(BEFORE_THE_MOVE.items()))
def test_moved_operations_keep_their_operation_ids(
    operations: list[dict[str, Any]], tag: str, prefix: str
) -> None:
    ids = [op["operationId"] for op in operations if tag in op.get("tags", [])]
    assert ids, f"no operation tagged {tag!r}"
    assert [i for i in ids if not i.startswith(prefix)] == []


def test_the_ids_clients_call_are_still_there(operations: list[dict[str, Any]]) -> None:
    ids = {op["operationId"] for op in operations}
    assert {
        "ketaclinic_infusions_chart_api_chart_get",
        "ketaclinic_infusions_chart_api_vitals",
        "ketaclinic_infusions_chart_api_sign",
        "ketaclinic_ledger_api_draw_create",
        "ketaclinic_ledger_api_count_create",
    } <= ids
