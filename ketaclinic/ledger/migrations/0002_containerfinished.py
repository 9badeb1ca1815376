"""The finished markers (`ContainerFinished`), filled by replaying every container's entries
(the pure `apply`, as the append path and `ledger verify` do)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    from ketaclinic.ledger.arithmetic import LedgerState, apply
    from ketaclinic.ledger.selectors.chain import entry_to_pure

    Container = apps.get_model("ledger", "Container")
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    ContainerFinished = apps.get_model("ledger", "ContainerFinished")
    alias = schema_editor.connection.alias
    containers = {c.pk: c for c in Container.objects.using(alias).all()}
    markers: list[Any] = []

    def close(cid: int | None, state: LedgerState, last: int) -> None:
        if cid is not None and state.containers[str(cid)].finished:
            markers.append(ContainerFinished(container_id=cid, seq=last))

    current: int | None = None
    state = LedgerState()
    seq_by_pk: dict[int, int] = {}
    last = 0
    rows = LedgerEntry.objects.using(alias).order_by("container_id", "seq").iterator(2000)
    for row in rows:
        if row.container_id != current:
            close(current, state, last)
            current, state, seq_by_pk = row.container_id, LedgerState(), {}
        seq_by_pk[row.pk] = row.seq
        state = apply(state, entry_to_pure(row, containers[current], seq_by_pk), today=None)
        if not state.containers[str(current)].finished:
            last = 0
        elif not last:
            last = row.seq
    close(current, state, last)
    ContainerFinished.objects.using(alias).bulk_create(markers, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContainerFinished",
            fields=[
                (
                    "container",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="finished",
                        serialize=False,
                        to="ledger.container",
                    ),
                ),
                (
                    "seq",
                    models.BigIntegerField(
                        help_text="The ledger entry that finished the container."
                    ),
                ),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
