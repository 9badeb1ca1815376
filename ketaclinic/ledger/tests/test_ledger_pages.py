"""The ledger's pages: the home page's stock, a container's history with its running balance,
and the forms (receipt, draw, witnessed waste, count, quarantine and release, correction,
resolving an investigation). Each form writes exactly the entries its service writes; bad input
and refusals show their reasons and store nothing; the ledger's chain verifies afterwards."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import selectors, services
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Investigation,
    InvestigationStatus,
    LedgerEntry,
    Receipt,
    RegisteredLocation,
    StockCount,
)
from ketaclinic.ledger.tests.conftest import SUPPLIER_DEA, receive, witness
from ketaclinic.testing import Clinic


def kinds() -> list[str]:
    return list(LedgerEntry.objects.order_by("seq").values_list("kind", flat=True))


def in_container(container: Container) -> Decimal:
    return selectors.container_ledger(container).current.balance.ml


def assert_ledger_intact() -> None:
    assert [str(p) for p in selectors.ledger_verify()] == []


def text(response: Any) -> str:
    """The page's text with tags removed and spaces collapsed, for reading it as a user does."""
    content = response.content.decode()
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content)))


def draw_now(clinic: Clinic, vial: Container, session: Session, ml: str) -> LedgerEntry:
    return services.ledger_draw(
        acting_user=clinic.users["ben"], container=vial, session=session, ml=Decimal(ml)
    )


# --- home ------------------------------------------------------------------------------------


def test_home_shows_each_storage_balance_and_containers_by_status(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    opened, quarantined, sealed = receive(clinic, location, containers=3)
    draw_now(clinic, opened, session, "4")
    services.ledger_quarantine(
        acting_user=clinic.users["dana"], container=quarantined, reason="recall notice"
    )

    response = clinic.client("ben").get("/ledger/")

    assert response.status_code == 200
    page = text(response)
    # 6 + 10 + 10 mL at 50 mg/mL in the safe; 4 mL drawn and not yet given or wasted.
    assert "On hand: 26 mL (1300 mg) in 3 container(s)" in page
    assert "1 sealed, 1 open, 1 quarantined, 0 empty" in page
    assert "Drawn and not yet given or wasted: 4 mL" in page
    for container, status, holds in (
        (opened, "Open", "6 mL (300 mg)"),
        (quarantined, "Quarantined", "10 mL (500 mg)"),
        (sealed, "Sealed", "10 mL (500 mg)"),
    ):
        row = re.search(
            rf'<tr data-container="{container.pk}">(.*?)</tr>', response.content.decode(), re.S
        )
        assert row is not None
        assert status in row.group(1) and holds in row.group(1)
    # A nurse reads; receiving, counting, investigations and reports are the administrator's.
    assert "Receive ketamine" not in page
    assert "Count this location" not in page
    assert "Open count investigations" not in page
    assert "Dispensing record" not in page


def test_home_shows_the_administrator_their_forms_and_open_investigations(
    clinic: Clinic, location: RegisteredLocation, vial: Container
) -> None:
    _, (investigation,) = services.ledger_count(
        acting_user=clinic.users["dana"],
        location=location,
        kind="daily",
        lines=[services.CountLine(vial, Decimal("9.5"))],
    )

    response = clinic.client("dana").get("/ledger/")

    assert response.status_code == 200
    page = text(response)
    for link in ("Receive ketamine", "Count this location", "Dispensing record", "Reconciliation"):
        assert link in page
    assert f'href="/ledger/investigations/{investigation.pk}/resolve/"' in response.content.decode()
    assert "10 mL 9.5 mL Resolve" in page


def test_home_reads_in_the_same_number_of_queries_for_more_containers(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    client = clinic.client("dana")
    first = receive(clinic, location)[0]
    client.get("/ledger/")  # warm the session and the caches
    draw_now(clinic, first, session, "1")  # each count after a write (its entries are read)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/ledger/").status_code == 200
    for vial in receive(clinic, location, containers=5, lot="LOT-B2"):
        draw_now(clinic, vial, session, "1")
    with CaptureQueriesContext(connection) as six:
        assert client.get("/ledger/").status_code == 200
    assert len(six) == len(one)
    with CaptureQueriesContext(connection) as again:  # nothing written since: none read
        assert client.get("/ledger/").status_code == 200
    assert len(again) == len(one) - 1


def test_the_navigation_links_the_ledger_for_the_roles_that_read_it(clinic: Clinic) -> None:
    for username in ("ada", "ben", "dana"):
        assert 'href="/ledger/"' in clinic.client(username).get("/ledger/").content.decode()
    intake_page = clinic.client("cleo").get("/intake/inquiries/")
    assert intake_page.status_code == 200
    assert 'href="/ledger/"' not in intake_page.content.decode()


# --- receipts --------------------------------------------------------------------------------


def receipt_form(location: RegisteredLocation, **overrides: str) -> dict[str, str]:
    data = {
        "location": str(location.pk),
        "storage": "",
        "product_name": "Ketamine HCl injection",
        "ndc": "0409-2051-05",
        "finished_form": "injection, solution",
        "concentration_mg_per_ml": "50",
        "container_volume_ml": "10",
        "lot": "LOT-P1",
        "expiry": (timezone.localdate() + timedelta(days=400)).isoformat(),
        "containers": "2",
        "supplier_name": "Synthetic Pharma Supply",
        "supplier_address": "9 Warehouse Road, Testville",
        "supplier_dea_number": SUPPLIER_DEA,
        "reference": "INV-2001",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(overrides)
    return data


def test_the_administrator_receives_a_delivery_one_entry_per_container(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    response = clinic.client("dana").post("/ledger/receipts/new/", receipt_form(location))

    assert response.status_code == 302
    assert response["Location"] == "/ledger/"
    receipt = Receipt.objects.get()
    assert (receipt.supplier_dea_number, receipt.containers_count, receipt.form) == (
        SUPPLIER_DEA,
        2,
        "injection, solution",
    )
    vials = list(Container.objects.order_by("pk"))
    assert len(vials) == 2
    assert kinds() == [EntryKind.RECEIPT, EntryKind.RECEIPT]
    assert [in_container(v) for v in vials] == [Decimal("10"), Decimal("10")]
    assert LedgerEntry.objects.filter(actor=clinic.users["dana"]).count() == 2
    assert_ledger_intact()


def test_a_receipt_with_a_bad_dea_number_shows_the_error_beside_it_and_stores_nothing(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    response = clinic.client("dana").post(
        "/ledger/receipts/new/", receipt_form(location, supplier_dea_number="RM7654320")
    )

    assert response.status_code == 422
    content = response.content.decode()
    field = content.index('id="id_supplier_dea_number"')
    errors = content.index('id="id_supplier_dea_number_errors"')
    assert 0 < errors - field < 400  # the message is beside its field
    assert "check digit" in content.lower()
    assert Receipt.objects.count() == 0
    assert Container.objects.count() == 0
    assert LedgerEntry.objects.count() == 0


def test_a_receipt_with_unreadable_input_shows_each_error_beside_its_field(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    response = clinic.client("dana").post(
        "/ledger/receipts/new/",
        receipt_form(location, container_volume_ml="ten", containers="0", lot=""),
    )

    assert response.status_code == 422
    content = response.content.decode()
    for name in ("container_volume_ml", "containers", "lot"):
        assert f'id="id_{name}_errors"' in content
    assert LedgerEntry.objects.count() == 0


def test_a_receipt_posted_by_a_nurse_is_refused(
    clinic: Clinic, location: RegisteredLocation
) -> None:
    response = clinic.client("ben").post("/ledger/receipts/new/", receipt_form(location))

    assert response.status_code == 403
    assert Receipt.objects.count() == 0
    assert LedgerEntry.objects.count() == 0


# --- counts and investigations ---------------------------------------------------------------


def test_a_count_records_every_line_and_opens_an_investigation_per_difference(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    sealed, opened = receive(clinic, location, containers=2)
    draw_now(clinic, opened, session, "2.5")
    client = clinic.client("dana")
    page = client.get(f"/ledger/counts/new/?location={location.pk}")
    assert page.status_code == 200
    assert "7.5" not in page.content.decode()  # counted blind: the expected figure is not shown

    response = client.post(
        f"/ledger/counts/new/?location={location.pk}",
        {
            "kind": "daily",
            f"sealed_{sealed.pk}": "present",
            f"counted_{opened.pk}": "7",
            f"estimated_{opened.pk}": "on",
        },
    )

    assert response.status_code == 302
    assert StockCount.objects.get().kind == "daily"
    counts = list(LedgerEntry.objects.filter(kind=EntryKind.COUNT).order_by("seq"))
    assert [
        (c.container_id, c.details["expected_ml"], c.details["counted_ml"]) for c in counts
    ] == [
        (sealed.pk, "10.0000", "10.0000"),
        (opened.pk, "7.5000", "7"),
    ]
    investigation = Investigation.objects.get()
    assert (investigation.count_entry, investigation.expected_ml, investigation.counted_ml) == (
        counts[1],
        Decimal("7.5"),
        Decimal("7"),
    )
    assert [in_container(sealed), in_container(opened)] == [Decimal("10"), Decimal("7.5")]
    assert_ledger_intact()

    resolved = client.post(
        f"/ledger/investigations/{investigation.pk}/resolve/",
        {"resolution": "Estimated by eye; recounted with a syringe: 7.5 mL."},
    )
    assert resolved.status_code == 302
    investigation.refresh_from_db()
    assert investigation.status == InvestigationStatus.RESOLVED
    assert investigation.resolved_by == clinic.users["dana"]
    again = client.post(
        f"/ledger/investigations/{investigation.pk}/resolve/", {"resolution": "twice"}
    )
    assert again.status_code == 409
    assert "This investigation is already resolved." in text(again)


def test_a_sealed_vial_is_counted_as_a_vial_not_in_ml(
    clinic: Clinic, location: RegisteredLocation, vial: Container
) -> None:
    client = clinic.client("dana")
    page = client.get(f"/ledger/counts/new/?location={location.pk}").content.decode()
    assert "Present, seal intact (1 vial)" in page
    assert f'name="estimated_{vial.pk}"' not in page  # a sealed vial is never estimated

    opened = client.post(
        f"/ledger/counts/new/?location={location.pk}",
        {"kind": "shift", f"sealed_{vial.pk}": "opened"},
    )
    assert opened.status_code == 422
    errors = re.search(
        rf'id="id_counted_{vial.pk}_errors"[^>]*>(.*?)</ul>', opened.content.decode()
    )
    assert errors is not None and "give the volume in mL" in errors.group(1)
    assert StockCount.objects.count() == 0

    missing = client.post(
        f"/ledger/counts/new/?location={location.pk}",
        {"kind": "shift", f"sealed_{vial.pk}": "missing"},
    )
    assert missing.status_code == 302
    count = LedgerEntry.objects.get(kind=EntryKind.COUNT)
    assert count.details["counted_ml"] == "0"
    assert Investigation.objects.get().counted_ml == Decimal("0")


def test_a_count_missing_a_line_is_an_error_beside_it(
    clinic: Clinic, location: RegisteredLocation, vial: Container
) -> None:
    response = clinic.client("dana").post(
        f"/ledger/counts/new/?location={location.pk}", {"kind": "shift"}
    )

    assert response.status_code == 422
    assert f'id="id_sealed_{vial.pk}_errors"' in response.content.decode()
    assert StockCount.objects.count() == 0


# --- quarantine and corrections --------------------------------------------------------------


def test_the_administrator_quarantines_and_releases_a_container(
    clinic: Clinic, vial: Container
) -> None:
    client = clinic.client("dana")
    assert (
        client.post(f"/ledger/containers/{vial.pk}/quarantine/", {"reason": ""}).status_code == 422
    )
    assert kinds() == [EntryKind.RECEIPT]

    response = client.post(f"/ledger/containers/{vial.pk}/quarantine/", {"reason": "Recall 7"})
    assert response.status_code == 302
    page = client.get(f"/ledger/containers/{vial.pk}/")
    assert "Status Quarantined" in text(page)
    assert f'href="/ledger/containers/{vial.pk}/release/"' in page.content.decode()
    twice = client.post(f"/ledger/containers/{vial.pk}/quarantine/", {"reason": "again"})
    assert twice.status_code == 409
    assert "is already quarantined." in text(twice)

    released = client.post(f"/ledger/containers/{vial.pk}/release/", {"reason": "Recall lifted"})
    assert released.status_code == 302
    assert kinds() == [EntryKind.RECEIPT, EntryKind.QUARANTINE, EntryKind.QUARANTINE_RELEASE]
    assert [e.reason for e in LedgerEntry.objects.order_by("seq")][1:] == [
        "Recall 7",
        "Recall lifted",
    ]
    assert_ledger_intact()


def test_the_administrator_corrects_a_draw_with_a_compensating_entry(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    drawn = draw_now(clinic, vial, session, "5")
    client = clinic.client("dana")
    url = f"/ledger/entries/{drawn.pk}/correct/"
    assert client.post(url, {"volume_ml": "-0.5", "reason": ""}).status_code == 422
    too_much = client.post(url, {"volume_ml": "-6", "reason": "typed wrong"})
    assert too_much.status_code == 409
    assert "an entry cannot go below 0 mL" in text(too_much)
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW]

    response = client.post(url, {"volume_ml": "-0.5", "reason": "Typed 5, drew 4.5"})

    assert response.status_code == 302
    correction = LedgerEntry.objects.get(kind=EntryKind.CORRECTION)
    assert (correction.ml, correction.corrects_id, correction.reason) == (
        Decimal("-0.5"),
        drawn.pk,
        "Typed 5, drew 4.5",
    )
    drawn.refresh_from_db()
    assert drawn.ml == Decimal("5")  # append-only: the draw itself is unchanged
    assert in_container(vial) == Decimal("5.5")
    assert_ledger_intact()


@pytest.mark.parametrize("username", ["ada", "ben"])
def test_quarantine_and_correction_posted_by_other_roles_are_refused(
    clinic: Clinic, vial: Container, username: str
) -> None:
    client: Client = clinic.client(username)
    entry = LedgerEntry.objects.get()
    quarantine = client.post(f"/ledger/containers/{vial.pk}/quarantine/", {"reason": "x"})
    correct = client.post(
        f"/ledger/entries/{entry.pk}/correct/", {"volume_ml": "-1", "reason": "x"}
    )
    assert (quarantine.status_code, correct.status_code) == (403, 403)
    assert kinds() == [EntryKind.RECEIPT]


# --- a container's history -------------------------------------------------------------------


def test_the_container_page_lists_its_entries_in_order_with_the_running_balance(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    first = draw_now(clinic, vial, session, "4")
    services.ledger_waste(
        acting_user=clinic.users["ben"],
        draw=first,
        ml=Decimal("1"),
        method="Pharmaceutical waste container",
        witness=witness(clinic, "ada"),
    )
    second = draw_now(clinic, vial, session, "2.25")

    response = clinic.client("ada").get(f"/ledger/containers/{vial.pk}/")

    assert response.status_code == 200
    content = response.content.decode()
    rows = re.findall(r'<tr data-ref="(L\d+)">(.*?)</tr>', content, re.S)
    refs = [f"L{e.seq}" for e in LedgerEntry.objects.order_by("seq")]
    assert [ref for ref, _ in rows] == refs
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "|", row)) for _, row in rows]
    expected = [
        ("Receipt", "10 mL", "dana", "", "10 mL (500 mg)"),
        ("Draw", "4 mL", "ben", "", "6 mL (300 mg)"),
        (f"Waste of L{first.seq}", "1 mL", "ben", "ada", "6 mL (300 mg)"),
        ("Draw", "2.25 mL", "ben", "", "3.75 mL (187.5 mg)"),
    ]
    for cell, (what, volume, by, witnessed, after) in zip(cells, expected, strict=True):
        parts = [p.strip() for p in cell.split("|")]
        assert what in parts and volume in parts and by in parts and after in parts, parts
        if witnessed:
            assert witnessed in parts
    # The open draws, each with the rest to waste; the clinician reads but may not waste.
    assert f'<tr data-draw="{first.pk}">' in content
    assert f'<tr data-draw="{second.pk}">' in content
    assert "Waste the rest" not in content
    assert "Draw from this container" not in content
    assert "Example" not in content  # no patient's name on the ledger's pages
    assert "3.75 mL" in text(response)


def test_the_nurse_sees_the_forms_the_nurse_may_use(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    drawn = draw_now(clinic, vial, session, "4")

    content = clinic.client("ben").get(f"/ledger/containers/{vial.pk}/").content.decode()

    assert f'href="/ledger/containers/{vial.pk}/draw/"' in content
    assert f'href="/ledger/draws/{drawn.pk}/waste/"' in content
    assert "/quarantine/" not in content and "/correct/" not in content


def test_an_unknown_container_is_not_found(clinic: Clinic) -> None:
    assert clinic.client("ben").get("/ledger/containers/999999/").status_code == 404


# --- reports ---------------------------------------------------------------------------------


def test_the_reconciliation_page_lists_a_session_whose_draw_is_not_accounted_for(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw_now(clinic, vial, session, "4")
    today = timezone.localdate()

    response = clinic.client("dana").get(
        f"/ledger/reports/reconciliation/?start={today - timedelta(days=1)}&end={today}"
    )

    assert response.status_code == 200
    assert f'href="/infusions/sessions/{session.pk}/"' in response.content.decode()
    assert "no administered dose is charted" in text(response)


def test_the_dispensing_record_shows_volumes_without_exponents(
    clinic: Clinic, location: RegisteredLocation, vial: Container
) -> None:
    response = clinic.client("dana").get(f"/ledger/reports/dispensing/?location={location.pk}")

    assert response.status_code == 200
    assert "E+" not in response.content.decode()
    assert "1 \u00d7 10 mL" in text(response)  # 1 x 10 mL, not 1 x 1E+1 mL
