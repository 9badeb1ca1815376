"""The other movements: transfers, returns, destruction, breakage, loss, quarantine and
corrections.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.ledger import deadlines
from ketaclinic.ledger.entries import ZERO
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry, StorageLocation
from ketaclinic.ledger.selectors import container_ledger, ml_quantize
from ketaclinic.ledger.services.core import _append, _dea_check, _Pending, _positive_ml
from ketaclinic.ledger.services.witnesses import WitnessCredentials, witness_authenticate


@transaction.atomic
def ledger_transfer(
    *, acting_user: Any, container: Container, to_storage: StorageLocation, reason: str = ""
) -> LedgerEntry:
    require(acting_user, "ledger.manage")
    if to_storage.location_id != container.location_id:
        raise ValidationError({"to_storage": ["Transfers stay within the registered location."]})
    current = container_ledger(container).current
    (row,) = _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=container,
                kind=EntryKind.TRANSFER,
                storage=to_storage,
                reason=reason,
                details={"from_storage": current.location},
            )
        ],
    )
    return row


@transaction.atomic
def ledger_return(
    *,
    acting_user: Any,
    container: Container,
    ml: Decimal,
    distributor_name: str,
    distributor_address: str,
    distributor_dea_number: str,
    reference: str,
) -> LedgerEntry:
    """Stock sent to a reverse distributor."""
    require(acting_user, "ledger.manage")
    volume = _positive_ml(ml, "volume_ml")
    number = _dea_check(distributor_dea_number, "distributor.dea_number")
    (row,) = _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=container,
                kind=EntryKind.RETURN,
                ml=volume,
                method="returned to a reverse distributor",
                details={
                    "distributor_name": distributor_name,
                    "distributor_address": distributor_address,
                    "distributor_dea_number": number,
                    "reference": reference,
                },
            )
        ],
    )
    return row


def ledger_destroy(
    *,
    acting_user: Any,
    container: Container,
    ml: Decimal,
    method: str,
    place: str,
    witnesses: Sequence[WitnessCredentials],
) -> LedgerEntry:
    """On-site destruction witnessed by two employees: the data of DEA Form 41."""
    require(acting_user, "ledger.manage")
    volume = _positive_ml(ml, "volume_ml")
    if len(witnesses) != 2:
        raise ValidationError({"witnesses": ["Destruction needs exactly two witnesses."]})
    # The witness authenticates outside the transaction: a wrong password must count
    # towards their sign-in lockout, and a refused write would roll that count back.
    first = witness_authenticate(
        acting_user=acting_user, credentials=witnesses[0], field="witnesses.0."
    )
    second = witness_authenticate(
        acting_user=acting_user, credentials=witnesses[1], field="witnesses.1."
    )
    if first.pk == second.pk:
        raise ValidationError({"witnesses.1.username": ["The two witnesses must be different."]})
    form_41 = {
        "form": "DEA Form 41",
        "registrant": container.location.registrant_name,
        "dea_number": container.location.dea_number,
        "ndc": container.ndc,
        "batch": container.lot,
        "strength_mg_per_ml": str(container.mg_per_ml),
        "quantity_ml": str(volume),
        "quantity_mg": str(volume * container.mg_per_ml),
        "date": timezone.localdate().isoformat(),
        "method": method,
        "place": place,
        "witnesses": [
            first.get_full_name() or first.username,
            second.get_full_name() or second.username,
        ],
    }
    with transaction.atomic():
        (row,) = _append(
            acting_user=acting_user,
            pending=[
                _Pending(
                    container=container,
                    kind=EntryKind.DESTRUCTION,
                    ml=volume,
                    method=method,
                    details=form_41,
                    witness=first,
                    second_witness=second,
                )
            ],
        )
    return row


def ledger_breakage(
    *,
    acting_user: Any,
    container: Container,
    ml: Decimal,
    description: str,
    witness: WitnessCredentials | None,
    draw: LedgerEntry | None = None,
) -> LedgerEntry:
    """Breakage or spill, from the vial or a drawn syringe, with a witness."""
    require(acting_user, "ledger.breakage")
    volume = _positive_ml(ml, "volume_ml")
    # The witness authenticates outside the transaction: a wrong password must count
    # towards their sign-in lockout, and a refused write would roll that count back.
    witness_user = witness_authenticate(acting_user=acting_user, credentials=witness)
    with transaction.atomic():
        (row,) = _append(
            acting_user=acting_user,
            pending=[
                _Pending(
                    container=container,
                    kind=EntryKind.BREAKAGE,
                    ml=volume,
                    draw=draw,
                    session=draw.session if draw else None,
                    reason=description,
                    method="breakage or spill",
                    witness=witness_user,
                )
            ],
        )
    return row


@transaction.atomic
def ledger_loss(
    *,
    acting_user: Any,
    container: Container,
    ml: Decimal,
    kind: str,
    discovered_on: date,
    description: str,
    draw: LedgerEntry | None = None,
) -> LedgerEntry:
    """Theft or significant loss: the data of DEA Form 106, with its due dates."""
    require(acting_user, "ledger.manage")
    volume = _positive_ml(ml, "volume_ml")
    form_106 = {
        "form": "DEA Form 106",
        "type": kind,
        "registrant": container.location.registrant_name,
        "dea_number": container.location.dea_number,
        "address": container.location.address,
        "discovered_on": discovered_on.isoformat(),
        "ndc": container.ndc,
        "lot": container.lot,
        "strength_mg_per_ml": str(container.mg_per_ml),
        "quantity_ml": str(volume),
        "quantity_mg": str(volume * container.mg_per_ml),
        "notice_due": deadlines.theft_loss_notice_due(discovered_on).isoformat(),
        "form_106_due": deadlines.form_106_due(discovered_on).isoformat(),
    }
    (row,) = _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=container,
                kind=EntryKind.LOSS,
                ml=volume,
                draw=draw,
                session=draw.session if draw else None,
                reason=description,
                method=kind,
                details=form_106,
            )
        ],
    )
    return row


@transaction.atomic
def ledger_quarantine(
    *, acting_user: Any, container: Container, reason: str, release: bool = False
) -> LedgerEntry:
    require(acting_user, "ledger.manage")
    if not reason.strip():
        raise ValidationError({"reason": ["Give a reason."]})
    kind = EntryKind.QUARANTINE_RELEASE if release else EntryKind.QUARANTINE
    (row,) = _append(
        acting_user=acting_user,
        pending=[_Pending(container=container, kind=kind, reason=reason.strip())],
    )
    return row


@transaction.atomic
def ledger_correct(
    *, acting_user: Any, entry: LedgerEntry, ml: Decimal, reason: str
) -> LedgerEntry:
    """A compensating entry against an earlier one: a signed amount and a reason."""
    require(acting_user, "ledger.manage")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the entry is corrected."]})
    if ml_quantize(ml) != ml or ml == ZERO:
        raise ValidationError({"volume_ml": ["A non-zero volume with at most 4 decimal places."]})
    (row,) = _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=entry.container,
                kind=EntryKind.CORRECTION,
                ml=ml,
                corrects=entry,
                session=entry.session,
                reason=reason.strip(),
            )
        ],
    )
    return row
