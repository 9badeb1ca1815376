"""The OpenAPI document's operationIds, kept when API modules move."""

from __future__ import annotations

from ninja import Router


def operation_ids_keep(router: Router, module: str) -> None:
    """Give each of the router's operations the operationId Django Ninja derived for it when its
    view lived in `module` (`<module>_<view name>`, dots as underscores), unless the route names
    its own. Django Ninja derives the id from the view's module, so moving a module would rename
    every operation that clients generated from the schema call. Call it after the last route."""
    for path_view in router.path_operations.values():
        for operation in path_view.operations:
            if operation.operation_id is None:
                name = operation.view_func.__name__
                operation.operation_id = f"{module}_{name}".replace(".", "_")
