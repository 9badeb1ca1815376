from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import require
from ketaclinic.fhir.smart.models import SmartClient


def smart_clients_for_admin(user: Any) -> list[SmartClient]:
    require(user, "user.manage")
    return list(SmartClient.objects.select_related("patient"))


def smart_client_for_admin(user: Any, client_pk: int) -> SmartClient:
    """SmartClient.DoesNotExist for an unknown one."""
    require(user, "user.manage")
    return SmartClient.objects.select_related("patient").get(pk=client_pk)
