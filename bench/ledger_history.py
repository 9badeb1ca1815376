"""The page bench's ledger history: five years of vials drawn for the generated sessions.

At ``--scale 1``: 1,500 finished vials (10 mL, 100 mg/mL: synthetic figures, chosen so that
40 sessions empty a vial), each with its receipt entry and, for each of its 40 sessions, a draw
(0.25 mL), the administration of the dose and the waste of what the dose left (about three
sessions in four) -- about 170,000 entries. Written in bulk (``bulk_create``), not by the
services, but as the services would have written them: arithmetically valid (the replay
accepts every entry; every vial ends finished), hash-chained after the demo's entries with the
ledger's own `entry_hash_payload` and `chain_hash` (so ``ketaclinic ledger verify`` passes), the
chain head moved to the last entry, and one `ContainerFinished` marker per vial naming the
entry that finished it. No audit events are written for them (the audit trail is not
measured here). The history's entries come after the demo's in the chain although they are
dated earlier: the chain's order is the order of writing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

VIALS = 1500
SESSIONS_PER_VIAL = 40
VIAL_ML = Decimal("10")
MG_PER_ML = Decimal("100")
DRAW_ML = VIAL_ML / SESSIONS_PER_VIAL  # 0.25 mL
DOSES_ML = (Decimal("0.18"), Decimal("0.2"), Decimal("0.22"), Decimal("0.25"))
VIALS_PER_RECEIPT = 10
BATCH = 5000


def ledger_history(scale: float, sessions: Sequence[tuple[uuid.UUID, Any]]) -> dict[str, int]:
    """Write the vials and their entries for ``sessions`` (id, start), oldest first; returns
    the counts written. ``sessions`` need not cover every vial: they are reused in turn."""
    from django.db import connection, transaction

    from ketaclinic.accounts.models import User
    from ketaclinic.ledger.models import (
        Container,
        ContainerFinished,
        EntryKind,
        LedgerChainHead,
        LedgerEntry,
        Receipt,
        RegisteredLocation,
        StorageLocation,
    )
    from ketaclinic.ledger.selectors import entry_hash_payload
    from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash

    vials = max(1, int(VIALS * scale))
    rng = random.Random(1313)  # noqa: S311  synthetic data
    location = RegisteredLocation.objects.order_by("pk").first()
    assert location is not None, "the demo registers the clinic's location first"
    storage = StorageLocation.objects.filter(location=location).order_by("pk").first()
    assert storage is not None
    users = {u.username: u.pk for u in User.objects.filter(username__in=["ada", "ben", "dana"])}
    ordered = sorted(sessions, key=lambda pair: pair[1])
    written = {"vials": 0, "entries": 0, "finished": 0}
    with transaction.atomic():
        head = LedgerChainHead.objects.select_for_update().filter(pk=1).first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        last_id = LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        next_id = last_id + 1
        entries: list[Any] = []
        markers: list[Any] = []
        for first in range(0, vials, VIALS_PER_RECEIPT):
            count = min(VIALS_PER_RECEIPT, vials - first)
            used = [
                ordered[(first * SESSIONS_PER_VIAL + k) % len(ordered)]
                for k in range(count * SESSIONS_PER_VIAL)
            ]
            received_at = used[0][1] - timedelta(days=1)
            expiry: date = (received_at + timedelta(days=730)).date()
            receipt = Receipt.objects.create(
                location=location,
                storage=storage,
                product_name="Ketamine HCl injection",
                ndc="0409-2051-05",
                form="injection, solution",
                concentration_mg_per_ml=MG_PER_ML,
                container_volume_ml=VIAL_ML,
                lot=f"LOT-H{first // VIALS_PER_RECEIPT:05d}",
                expiry=expiry,
                containers_count=count,
                supplier_name="Synthetic Pharma Supply",
                supplier_address="9 Warehouse Road, Testville",
                supplier_dea_number="RM7654329",
                reference=f"INV-H{first:06d}",
                received_at=received_at,
                received_by_id=users["dana"],
            )
            containers = Container.objects.bulk_create(
                [
                    Container(
                        receipt=receipt,
                        location=location,
                        number=n + 1,
                        mg_per_ml=MG_PER_ML,
                        nominal_ml=VIAL_ML,
                        expires_on=expiry,
                        ndc=receipt.ndc,
                        lot=receipt.lot,
                    )
                    for n in range(count)
                ]
            )
            for n, container in enumerate(containers):
                seq_by_pk: dict[int, int] = {}

                def add(**fields: Any) -> LedgerEntry:
                    nonlocal seq, prev, next_id
                    seq += 1
                    row = LedgerEntry(
                        id=next_id,
                        seq=seq,
                        container=container,  # noqa: B023  (used at once, in this loop)
                        prev_hash=prev,
                        details=fields.pop("details", {}),
                        **fields,
                    )
                    next_id += 1
                    seq_by_pk[row.pk] = seq  # noqa: B023
                    row.hash = chain_hash(prev, entry_hash_payload(row, container, seq_by_pk))  # noqa: B023
                    prev = row.hash
                    entries.append(row)
                    return row

                add(
                    kind=EntryKind.RECEIPT,
                    ml=VIAL_ML,
                    storage=storage,
                    details={"receipt": receipt.pk},
                    actor_id=users["dana"],
                    at=received_at,
                )
                last = None
                for sid, start in used[n * SESSIONS_PER_VIAL : (n + 1) * SESSIONS_PER_VIAL]:
                    draw = add(
                        kind=EntryKind.DRAW,
                        ml=DRAW_ML,
                        session_id=sid,
                        actor_id=users["ben"],
                        at=start,
                    )
                    dose = rng.choice(DOSES_ML)
                    last = add(
                        kind=EntryKind.ADMINISTRATION,
                        ml=dose,
                        draw=draw,
                        session_id=sid,
                        actor_id=users["ben"],
                        at=start + timedelta(minutes=40),
                    )
                    if dose < DRAW_ML:
                        last = add(
                            kind=EntryKind.WASTE,
                            ml=DRAW_ML - dose,
                            draw=draw,
                            session_id=sid,
                            method="sink, witnessed",
                            actor_id=users["ben"],
                            witness_id=users["ada"],
                            at=start + timedelta(minutes=45),
                        )
                assert last is not None
                # Emptied by its last draw, finished by the last draw's last entry.
                markers.append(ContainerFinished(container=container, seq=last.seq))
            written["vials"] += count
            if len(entries) >= BATCH:
                written["entries"] += len(entries)
                LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
                entries.clear()
        written["entries"] += len(entries)
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
        ContainerFinished.objects.bulk_create(markers, batch_size=BATCH)
        written["finished"] = len(markers)
        LedgerChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev})
        table = LedgerEntry._meta.db_table
        with connection.cursor() as cursor:  # the explicit ids: the sequence moves past them
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
    return written
