"""`rows_insert`: the rows stored, their keys set in order, on PostgreSQL by binary arrays
(values with quotes, backslashes, JSON and enum members) and elsewhere by `bulk_create`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ketaclinic.lib.bulk import rows_insert
from ketaclinic.monitors.models import MessageStatus, MonitorMessage

pytestmark = pytest.mark.django_db


def _row(n: int) -> MonitorMessage:
    return MonitorMessage(
        raw=f'MSH|^~\\&|"quoted" {n}\rOBX|1',
        control_id=f"C{n}",
        message_type="ORU^R01",
        observed_at=timezone.now(),
        status=MessageStatus.NOTHING,
        parse_json={"n": n, "text": 'a "b" \\ c', "list": [1, None, "x"]},
        ack_code="AA",
        readings=n,
    )


@pytest.mark.parametrize("count", [1, 3])
def test_rows_are_stored_with_their_keys_in_order(count: int) -> None:
    rows = rows_insert(MonitorMessage, [_row(n) for n in range(count)])
    assert all(row.pk is not None and not row._state.adding for row in rows)
    for n, row in enumerate(rows):
        stored = MonitorMessage.objects.get(pk=row.pk)
        assert stored.control_id == f"C{n}" and stored.readings == n
        assert stored.raw == f'MSH|^~\\&|"quoted" {n}\rOBX|1'
        assert stored.parse_json == {"n": n, "text": 'a "b" \\ c', "list": [1, None, "x"]}
        assert stored.status == "nothing" and stored.device_id is None
