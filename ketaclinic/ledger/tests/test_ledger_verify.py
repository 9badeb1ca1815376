"""`ketaclinic ledger verify`: the chain and every balance; altering a row behind the
application's back makes it fail, naming the entry."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import services
from ketaclinic.ledger.models import Container, EntryKind, LedgerChainHead, LedgerEntry
from ketaclinic.ledger.selectors import entry_ref
from ketaclinic.ledger.tests.conftest import witness
from ketaclinic.testing import Clinic


@pytest.fixture
def busy_vial(clinic: Clinic, vial: Container, session: Session) -> Container:
    draw = services.ledger_draw(
        acting_user=clinic.users["ben"], container=vial, session=session, ml=Decimal("3")
    )
    services.ledger_waste(
        acting_user=clinic.users["ben"],
        draw=draw,
        ml=Decimal("1"),
        method="sink",
        witness=witness(clinic, "ada"),
    )
    services.ledger_correct(
        acting_user=clinic.users["dana"], entry=draw, ml=Decimal("-0.5"), reason="typo"
    )
    return vial


def verify() -> str:
    out = StringIO()
    call_command("ledger", "verify", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_untouched_ledger_verifies(busy_vial: Container) -> None:
    assert "ledger intact: 4 entries and 1 container balances verified" in verify()


def test_an_edited_volume_fails_naming_the_entry(busy_vial: Container) -> None:
    draw = LedgerEntry.objects.get(kind=EntryKind.DRAW)
    LedgerEntry.objects.filter(pk=draw.pk).update(ml=Decimal("0.5"))  # behind save()'s back
    with pytest.raises(CommandError, match=rf"ledger entry {entry_ref(draw.seq)} \(id={draw.pk}\)"):
        verify()


def test_an_edited_witness_or_time_fails(clinic: Clinic, busy_vial: Container) -> None:
    waste = LedgerEntry.objects.get(kind=EntryKind.WASTE)
    LedgerEntry.objects.filter(pk=waste.pk).update(witness=clinic.users["dana"])
    with pytest.raises(CommandError, match=f"{entry_ref(waste.seq)}.*does not match its hash"):
        verify()


def test_a_row_changed_with_raw_sql_fails(busy_vial: Container) -> None:
    receipt = LedgerEntry.objects.get(kind=EntryKind.RECEIPT)
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET ml = 20 WHERE id = %s", [receipt.pk])  # noqa: S608
    with pytest.raises(CommandError, match=entry_ref(receipt.seq)):
        verify()


def test_a_deleted_entry_fails(busy_vial: Container) -> None:
    waste = LedgerEntry.objects.get(kind=EntryKind.WASTE)
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [waste.pk])  # noqa: S608
    with pytest.raises(CommandError, match="removed or inserted"):
        verify()


def test_a_removed_last_entry_fails_against_the_chain_head(busy_vial: Container) -> None:
    last = LedgerEntry.objects.order_by("-seq").first()
    assert last is not None
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [last.pk])  # noqa: S608
    with pytest.raises(CommandError, match="head"):
        verify()


def test_a_rehashed_forgery_still_fails_on_the_balance(busy_vial: Container) -> None:
    """A forger who recomputes every hash and the head still cannot hide a draw larger than
    the vial: replaying the balances refuses it."""
    from ketaclinic.ledger.selectors import entry_hash_payload, ledger_verify
    from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash

    draw = LedgerEntry.objects.get(kind=EntryKind.DRAW)
    LedgerEntry.objects.filter(pk=draw.pk).update(ml=Decimal("50"))
    prev = GENESIS_HASH
    seq_by_pk: dict[int, int] = {}
    for row in LedgerEntry.objects.order_by("seq"):
        seq_by_pk[row.pk] = row.seq
        row.prev_hash = prev
        new_hash = chain_hash(prev, entry_hash_payload(row, row.container, seq_by_pk))
        LedgerEntry.objects.filter(pk=row.pk).update(prev_hash=prev, hash=new_hash)
        prev = new_hash
    LedgerChainHead.objects.filter(pk=1).update(hash=prev)
    problems = ledger_verify()
    assert problems, "the forgery went unnoticed"
    assert problems[0].seq == draw.seq
    assert "balance does not add up" in problems[0].message
    assert "holds only 10 mL" in problems[0].message
