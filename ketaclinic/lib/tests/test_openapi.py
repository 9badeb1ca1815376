"""`operation_ids_keep`: a router's operationIds stay those of the module its views came from."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from ketaclinic.lib.openapi import operation_ids_keep


def _schema_ids(router: Router) -> dict[str, str]:
    api = NinjaAPI(urls_namespace="operation_ids_keep_test")
    api.add_router("", router)
    paths = api.get_openapi_schema(path_prefix="")["paths"]
    return {path: ops["get"]["operationId"] for path, ops in paths.items()}


def test_each_operation_keeps_the_id_it_had_in_its_old_module() -> None:
    router = Router()

    @router.get("/derived")
    def chart_get(request: HttpRequest) -> int:
        return 1

    @router.get("/explicit", operation_id="its_own_name")
    def other(request: HttpRequest) -> int:
        return 2

    operation_ids_keep(router, "ketaclinic.infusions.chart_api")

    assert _schema_ids(router) == {
        "/derived": "ketaclinic_infusions_chart_api_chart_get",
        "/explicit": "its_own_name",
    }


def test_without_it_the_id_follows_the_module_the_view_lives_in() -> None:
    router = Router()

    @router.get("/derived")
    def chart_get(request: HttpRequest) -> int:
        return 1

    assert _schema_ids(router) == {"/derived": f"{__name__.replace('.', '_')}_chart_get"}
