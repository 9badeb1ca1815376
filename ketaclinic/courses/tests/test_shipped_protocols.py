from __future__ import annotations

from typing import Any

from ketaclinic.courses.models import Protocol
from ketaclinic.infusions.protocols import shipped_protocols


def test_the_data_migration_loads_every_shipped_protocol_as_version_1(db: Any) -> None:
    rows = {row.code: row for row in Protocol.objects.all()}
    for shipped in shipped_protocols():
        row = rows[shipped.code]
        assert row.version == 1
        assert row.active
        assert row.definition() == shipped
        assert row.name == shipped.title
        assert row.route == shipped.route.value
        assert row.max_dose_mg == shipped.dosing.max_single_dose_mg.value
