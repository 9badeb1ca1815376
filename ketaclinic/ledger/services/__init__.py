"""Writes to the ketamine ledger. Each runs in one transaction, locks the container rows it
moves (in id order) and then the chain head, checks the movement with the pure `apply`, appends
hash-chained entries and writes its audit events in the same transaction.

Refusals of the ledger's rules raise `LedgerRefused` (HTTP 409); wrong input (a bad DEA number,
a witness who cannot authenticate) raises `ValidationError` with field names (HTTP 422). Both
store nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp import devices_for_user

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.ledger import deadlines
from ketaclinic.ledger.arithmetic import apply, count_discrepancy
from ketaclinic.ledger.dea import dea_number_normalise, dea_number_problems
from ketaclinic.ledger.entries import ZERO, LedgerRefused
from ketaclinic.ledger.models import (
    BusinessTime,
    Container,
    CountKind,
    EntryKind,
    Inventory,
    InventoryKind,
    Investigation,
    InvestigationStatus,
    LedgerChainHead,
    LedgerEntry,
    Receipt,
    RegisteredLocation,
    StockCount,
    StorageKind,
    StorageLocation,
)
from ketaclinic.ledger.selectors import (
    administration_split,
    container_ledger,
    entry_hash_payload,
    entry_ref,
    entry_to_pure,
    ml_quantize,
    session_draws,
)
from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash, digest

DEFAULT_STORAGE_NAME = "Safe"


# --- helpers ---------------------------------------------------------------------------------


def _patient_of(session: Any) -> Any:
    if session is None:
        return None
    return session.course.patient_id


def _audit(actor: Any, action: Action, object_type: str, pairs: Sequence[tuple[Any, Any]]) -> None:
    audit_record_many(
        actor=actor,
        action=action,
        targets=[AuditTarget(object_type, str(oid), patient) for oid, patient in pairs],
    )


def _dea_check(number: str, field: str, *, last_name: str | None = None) -> str:
    problems = dea_number_problems(number, registrant_last_name=last_name)
    if problems:
        raise ValidationError({field: problems})
    return dea_number_normalise(number)


def _positive_ml(value: Decimal, field: str) -> Decimal:
    if not value.is_finite() or value <= ZERO:
        raise ValidationError({field: [f"Must be more than 0 mL (got {value})."]})
    quantized = ml_quantize(value)
    if quantized != value:
        raise ValidationError({field: ["Give the volume with at most 4 decimal places."]})
    return quantized


def _head_locked() -> LedgerChainHead:
    head = LedgerChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            LedgerChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
    except IntegrityError:
        pass  # another writer created it first
    return LedgerChainHead.objects.select_for_update().get(pk=1)


def _containers_locked(ids: Sequence[int]) -> dict[int, Container]:
    """Lock the container rows in id order (so two writers never wait on each other in a
    circle); every movement of a container holds its lock until commit."""
    rows = Container.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    found = {row.pk: row for row in rows}
    if len(found) != len(set(ids)):
        raise Container.DoesNotExist
    return found


@dataclass
class _Pending:
    """An entry to append: everything but its position and hash."""

    container: Container
    kind: str
    ml: Decimal = ZERO
    draw: LedgerEntry | None = None
    session: Any = None
    corrects: LedgerEntry | None = None
    storage: StorageLocation | None = None
    reason: str = ""
    method: str = ""
    details: dict[str, Any] | None = None
    witness: Any = None
    second_witness: Any = None


def _append(*, acting_user: Any, pending: Sequence[_Pending]) -> list[LedgerEntry]:
    """Check each entry against its container's replayed ledger and append them all.

    Call inside a transaction. The containers are locked first, then the chain head.
    """
    locked = _containers_locked([p.container.pk for p in pending])
    ledgers = {cid: container_ledger(c) for cid, c in locked.items()}
    head = _head_locked()
    seq, prev = head.seq, head.hash
    now = timezone.now()
    today = timezone.localdate()
    rows: list[LedgerEntry] = []
    for item in pending:
        container = locked[item.container.pk]
        ledger = ledgers[container.pk]
        seq += 1
        row = LedgerEntry(
            seq=seq,
            container=container,
            kind=item.kind,
            ml=item.ml,
            draw=item.draw,
            session=item.session,
            corrects=item.corrects,
            storage=item.storage,
            reason=item.reason,
            method=item.method,
            details=item.details or {},
            actor=acting_user,
            witness=item.witness,
            second_witness=item.second_witness,
            at=now,
            prev_hash=prev,
        )
        seq_by_pk = dict(ledger.seq_by_pk)
        entry = entry_to_pure(row, container, seq_by_pk)
        state = apply(ledger.state, entry, today=today)  # LedgerRefused: nothing is stored
        row.hash = chain_hash(prev, entry_hash_payload(row, container, seq_by_pk))
        row.save()
        prev = row.hash
        seq_by_pk[row.pk] = row.seq
        ledger = type(ledger)(container, [*ledger.rows, row], state, seq_by_pk)
        ledgers[container.pk] = ledger
        rows.append(row)
    LedgerChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    _audit(
        acting_user,
        Action.CREATE,
        "LedgerEntry",
        [(row.pk, _patient_of(row.session)) for row in rows],
    )
    return rows


# --- witnesses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessCredentials:
    username: str
    password: str
    otp: str = ""


def witness_authenticate(
    *, acting_user: Any, credentials: WitnessCredentials | None, field: str = "witness_"
) -> Any:
    """The witness, who must be a different active staff user allowed to witness and who
    authenticates here: password, and a TOTP code when they have enrolled a device."""
    if credentials is None or not credentials.username:
        raise ValidationError({f"{field}username": ["A second staff user must witness this."]})
    wrong = ValidationError({f"{field}password": ["The witness's username or password is wrong."]})
    user = get_user_model().objects.filter(username=credentials.username).first()
    if user is None or not user.is_active:
        raise wrong
    if not user.check_password(credentials.password):
        raise wrong
    if user.pk == acting_user.pk:
        raise ValidationError(
            {f"{field}username": ["The witness must be a different person from you."]}
        )
    if not user_can(user, "ledger.witness"):
        raise ValidationError(
            {f"{field}username": ["This user's role may not witness ledger entries."]}
        )
    devices = list(devices_for_user(user, confirmed=True))
    if devices:
        code = credentials.otp.strip()
        if not code:
            raise ValidationError(
                {f"{field}otp": ["The witness has two-factor authentication: give their code."]}
            )
        if not any(device.verify_token(code) for device in devices):
            raise ValidationError({f"{field}otp": ["The witness's code is wrong or used."]})
    return user


# --- locations -------------------------------------------------------------------------------


@transaction.atomic
def location_register(
    *,
    acting_user: Any,
    name: str,
    registrant_name: str,
    address: str,
    dea_number: str,
    dea_expiry: date,
    waste_witness_required: bool = True,
) -> RegisteredLocation:
    """A DEA-registered location, with a default storage location (its safe)."""
    require(acting_user, "ledger.manage")
    number = _dea_check(dea_number, "dea_number")
    location = RegisteredLocation(
        name=name,
        registrant_name=registrant_name,
        address=address,
        dea_number=number,
        dea_expiry=dea_expiry,
        waste_witness_required=waste_witness_required,
        created_by=acting_user,
    )
    location.full_clean()
    location.save()
    StorageLocation.objects.create(
        location=location, name=DEFAULT_STORAGE_NAME, kind=StorageKind.SAFE
    )
    _audit(acting_user, Action.CREATE, "RegisteredLocation", [(location.pk, None)])
    return location


@transaction.atomic
def location_witness_policy_set(
    *, acting_user: Any, location: RegisteredLocation, waste_witness_required: bool
) -> RegisteredLocation:
    require(acting_user, "ledger.manage")
    location.waste_witness_required = waste_witness_required
    location.save(update_fields=["waste_witness_required"])
    _audit(acting_user, Action.UPDATE, "RegisteredLocation", [(location.pk, None)])
    return location


@transaction.atomic
def storage_location_create(
    *, acting_user: Any, location: RegisteredLocation, name: str, kind: str
) -> StorageLocation:
    require(acting_user, "ledger.manage")
    storage = StorageLocation(location=location, name=name, kind=kind)
    storage.full_clean()
    storage.save()
    _audit(acting_user, Action.CREATE, "StorageLocation", [(storage.pk, None)])
    return storage


# --- receipts --------------------------------------------------------------------------------


@transaction.atomic
def ledger_receive(
    *,
    acting_user: Any,
    location: RegisteredLocation,
    product_name: str,
    ndc: str,
    form: str,
    concentration_mg_per_ml: Decimal,
    container_volume_ml: Decimal,
    lot: str,
    expiry: date,
    containers: int,
    supplier_name: str,
    supplier_address: str,
    supplier_dea_number: str,
    reference: str,
    received_at: datetime,
    storage: StorageLocation | None = None,
) -> tuple[Receipt, list[Container]]:
    """A delivery: one container per vial, each received into the ledger with its own entry."""
    require(acting_user, "ledger.manage")
    number = _dea_check(supplier_dea_number, "supplier.dea_number")
    volume = _positive_ml(container_volume_ml, "container_volume_ml")
    if (
        not concentration_mg_per_ml.is_finite()
        or concentration_mg_per_ml <= ZERO
        or ml_quantize(concentration_mg_per_ml) != concentration_mg_per_ml
    ):
        raise ValidationError(
            {"concentration_mg_per_ml": ["More than 0 mg/mL, with at most 4 decimal places."]}
        )
    if containers < 1:
        raise ValidationError({"containers": ["At least one container."]})
    if storage is None:
        storage = StorageLocation.objects.filter(location=location).order_by("pk").first()
        if storage is None:
            raise ValidationError({"storage": ["Add a storage location (a safe) first."]})
    elif storage.location_id != location.pk:
        raise ValidationError({"storage": ["That storage location is in another location."]})
    receipt = Receipt(
        location=location,
        storage=storage,
        product_name=product_name,
        ndc=ndc,
        form=form,
        concentration_mg_per_ml=concentration_mg_per_ml,
        container_volume_ml=volume,
        lot=lot,
        expiry=expiry,
        containers_count=containers,
        supplier_name=supplier_name,
        supplier_address=supplier_address,
        supplier_dea_number=number,
        reference=reference,
        received_at=received_at,
        received_by=acting_user,
    )
    receipt.full_clean()
    receipt.save()
    vials = [
        Container.objects.create(
            receipt=receipt,
            location=location,
            number=n,
            mg_per_ml=concentration_mg_per_ml,
            nominal_ml=volume,
            expires_on=expiry,
            ndc=ndc,
            lot=lot,
        )
        for n in range(1, containers + 1)
    ]
    _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=vial,
                kind=EntryKind.RECEIPT,
                ml=volume,
                storage=storage,
                details={"receipt": receipt.pk},
            )
            for vial in vials
        ],
    )
    _audit(acting_user, Action.CREATE, "LedgerReceipt", [(receipt.pk, None)])
    return receipt, vials


# --- draws, administration, waste ------------------------------------------------------------


@transaction.atomic
def ledger_draw(
    *, acting_user: Any, container: Container, session: Any, ml: Decimal
) -> LedgerEntry:
    """A nurse draws a volume from a container into a syringe for a session."""
    require(acting_user, "ledger.draw")
    volume = _positive_ml(ml, "volume_ml")
    if session.status in {"signed", "cancelled"}:
        raise LedgerRefused(f"The session is {session.status}; nothing can be drawn for it.")
    (row,) = _append(
        acting_user=acting_user,
        pending=[_Pending(container=container, kind=EntryKind.DRAW, ml=volume, session=session)],
    )
    return row


@transaction.atomic
def ledger_administration_record(*, acting_user: Any, session: Any) -> list[LedgerEntry]:
    """Record in the ledger what the chart says was given (`session.administered_mg`).

    The chart calls this when the infusion stops (and again if the dose is corrected). The
    dose is split over the session's draws in the order drawn, converted to mL with each
    container's concentration; what was already recorded is subtracted, and a lower dose
    than recorded is recorded as compensating corrections.

    It never refuses, so that stopping an infusion is never blocked by bookkeeping: with no
    dose charted or nothing drawn it records nothing, and a dose larger than the draws is
    recorded as far as it fits. `session_ledger_problems` reports what is left over, and
    signing waits for it.
    """
    require(acting_user, "ledger.administer")
    charted: Decimal | None = getattr(session, "administered_mg", None)
    if charted is None:
        return []
    draws = session_draws(session)
    if not draws:
        return []
    _containers_locked([row.container_id for row, _, _ in draws])
    draws = session_draws(session)  # again, now that the containers are locked
    recorded = sum((draw.administered_mg for _, draw, _ in draws), ZERO)
    delta = charted - recorded
    pending: list[_Pending] = []
    if delta > ZERO:
        split, _unplaced = administration_split([(r, d) for r, d, _ in draws], delta)
        pending = [
            _Pending(
                container=row.container,
                kind=EntryKind.ADMINISTRATION,
                ml=ml,
                draw=row,
                session=session,
                details={"charted_mg": str(charted)},
            )
            for row, ml in split
        ]
    elif delta < ZERO:
        remaining = -delta
        administrations = LedgerEntry.objects.filter(
            session=session, kind=EntryKind.ADMINISTRATION
        ).select_related("container", "draw")
        for admin_row in reversed(list(administrations.order_by("seq"))):
            if remaining <= ZERO:
                break
            draw_state = next(d for r, d, _ in draws if r.pk == admin_row.draw_id)
            given_ml = draw_state.administered
            if given_ml <= ZERO:
                continue
            take = min(ml_quantize(remaining / draw_state.mg_per_ml), given_ml, admin_row.ml)
            pending.append(
                _Pending(
                    container=admin_row.container,
                    kind=EntryKind.CORRECTION,
                    ml=-take,
                    corrects=admin_row,
                    session=session,
                    reason=f"The chart's administered dose changed from {recorded} mg to "
                    f"{charted} mg.",
                )
            )
            remaining -= take * draw_state.mg_per_ml
    if not pending:
        return []
    return _append(acting_user=acting_user, pending=pending)


@transaction.atomic
def ledger_waste(
    *,
    acting_user: Any,
    draw: LedgerEntry,
    ml: Decimal,
    method: str,
    witness: WitnessCredentials | None,
) -> LedgerEntry:
    """What remains of a draw after the dose, destroyed; witnessed where the location says."""
    require(acting_user, "ledger.waste")
    volume = _positive_ml(ml, "volume_ml")
    if not method.strip():
        raise ValidationError({"method": ["Say how the waste was destroyed."]})
    witness_user = None
    if draw.container.location.waste_witness_required or witness is not None:
        witness_user = witness_authenticate(acting_user=acting_user, credentials=witness)
    (row,) = _append(
        acting_user=acting_user,
        pending=[
            _Pending(
                container=draw.container,
                kind=EntryKind.WASTE,
                ml=volume,
                draw=draw,
                session=draw.session,
                method=method.strip(),
                witness=witness_user,
            )
        ],
    )
    return row


# --- other movements -------------------------------------------------------------------------


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


@transaction.atomic
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


@transaction.atomic
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
    witness_user = witness_authenticate(acting_user=acting_user, credentials=witness)
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


# --- counts and inventories ------------------------------------------------------------------


@dataclass(frozen=True)
class CountLine:
    container: Container
    counted_ml: Decimal
    estimated: bool = False


@transaction.atomic
def ledger_count(
    *,
    acting_user: Any,
    location: RegisteredLocation,
    kind: str,
    lines: Sequence[CountLine],
) -> tuple[StockCount, list[Investigation]]:
    """A shift or daily count: expected versus counted per container; every discrepancy
    opens an investigation."""
    require(acting_user, "ledger.manage")
    if kind not in CountKind.values:
        raise ValidationError({"kind": [f"One of {', '.join(CountKind.values)}."]})
    if not lines:
        raise ValidationError({"lines": ["Count at least one container."]})
    count = StockCount.objects.create(location=location, kind=kind, counted_by=acting_user)
    rows, discrepancies = _count_entries(acting_user, location, lines, {"count": count.pk})
    investigations = []
    for row, (expected, counted) in zip(rows, discrepancies, strict=True):
        if count_discrepancy(expected, counted).is_match:
            continue
        investigations.append(
            Investigation.objects.create(count_entry=row, expected_ml=expected, counted_ml=counted)
        )
    _audit(acting_user, Action.CREATE, "StockCount", [(count.pk, None)])
    if investigations:
        _audit(acting_user, Action.CREATE, "Investigation", [(i.pk, None) for i in investigations])
    return count, investigations


def _count_entries(
    acting_user: Any,
    location: RegisteredLocation,
    lines: Sequence[CountLine],
    extra: dict[str, Any],
) -> tuple[list[LedgerEntry], list[tuple[Decimal, Decimal]]]:
    seen: set[int] = set()
    for n, line in enumerate(lines):
        if line.container.location_id != location.pk:
            raise ValidationError({f"lines.{n}.container": ["Not in this location."]})
        if line.container.pk in seen:
            raise ValidationError({f"lines.{n}.container": ["Counted twice."]})
        seen.add(line.container.pk)
        if line.counted_ml < ZERO or ml_quantize(line.counted_ml) != line.counted_ml:
            raise ValidationError(
                {f"lines.{n}.counted_ml": ["0 mL or more, with at most 4 decimal places."]}
            )
    _containers_locked([line.container.pk for line in lines])
    pending = []
    figures = []
    for n, line in enumerate(lines):
        current = container_ledger(line.container).current
        expected = current.in_container_ml
        if line.estimated and expected == current.container.nominal_ml:
            raise ValidationError(
                {
                    f"lines.{n}.estimated": [
                        "Only opened containers may be estimated; count unopened ones exactly."
                    ]
                }
            )
        figures.append((expected, line.counted_ml))
        pending.append(
            _Pending(
                container=line.container,
                kind=EntryKind.COUNT,
                details={
                    **extra,
                    "expected_ml": str(expected),
                    "counted_ml": str(line.counted_ml),
                    "estimated": line.estimated,
                },
            )
        )
    return _append(acting_user=acting_user, pending=pending), figures


@transaction.atomic
def investigation_resolve(
    *, acting_user: Any, investigation: Investigation, resolution: str
) -> Investigation:
    require(acting_user, "ledger.manage")
    if investigation.status == InvestigationStatus.RESOLVED:
        raise LedgerRefused("This investigation is already resolved.")
    if not resolution.strip():
        raise ValidationError({"resolution": ["Say what was found."]})
    investigation.status = InvestigationStatus.RESOLVED
    investigation.resolution = resolution.strip()
    investigation.resolved_by = acting_user
    investigation.resolved_at = timezone.now()
    investigation.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    _audit(acting_user, Action.UPDATE, "Investigation", [(investigation.pk, None)])
    return investigation


@transaction.atomic
def ledger_inventory_take(
    *,
    acting_user: Any,
    location: RegisteredLocation,
    kind: str,
    taken_on: date,
    business_time: str,
    lines: Sequence[CountLine],
) -> Inventory:
    """The initial or biennial inventory (21 CFR 1304.11): every container on hand, exact or
    (opened containers only) estimated, at opening or close of business, signed by the caller.
    """
    require(acting_user, "ledger.manage")
    if kind not in InventoryKind.values:
        raise ValidationError({"kind": [f"One of {', '.join(InventoryKind.values)}."]})
    if business_time not in BusinessTime.values:
        raise ValidationError({"business_time": [f"One of {', '.join(BusinessTime.values)}."]})
    if (
        kind == InventoryKind.INITIAL
        and Inventory.objects.filter(location=location, kind=InventoryKind.INITIAL).exists()
    ):
        raise LedgerRefused("This location already has its initial inventory.")
    counted = {line.container.pk for line in lines}
    missing = [
        c.pk
        for c in Container.objects.filter(location=location).order_by("pk")
        if c.pk not in counted and container_ledger(c).current.on_hand_ml > ZERO
    ]
    if missing:
        raise ValidationError(
            {"lines": [f"Containers on hand not in the inventory: {', '.join(map(str, missing))}."]}
        )
    inventory = Inventory(
        location=location,
        kind=kind,
        taken_on=taken_on,
        business_time=business_time,
        signed_by=acting_user,
    )
    rows: list[LedgerEntry] = []
    figures: list[tuple[Decimal, Decimal]] = []
    if lines:
        inventory.digest = "pending"
        inventory.save()
        rows, figures = _count_entries(acting_user, location, lines, {"inventory": inventory.pk})
    frozen = [
        {
            "container": line.container.pk,
            "ndc": line.container.ndc,
            "lot": line.container.lot,
            "strength_mg_per_ml": str(line.container.mg_per_ml),
            "container_ml": str(line.container.nominal_ml),
            "expected_ml": str(expected),
            "counted_ml": str(counted_ml),
            "estimated": line.estimated,
            "entry": entry_ref(row.seq),
        }
        for line, row, (expected, counted_ml) in zip(lines, rows, figures, strict=True)
    ]
    inventory.lines = frozen
    inventory.digest = digest(
        {
            "location": location.pk,
            "dea_number": location.dea_number,
            "kind": kind,
            "taken_on": taken_on.isoformat(),
            "business_time": business_time,
            "signed_by": acting_user.pk,
            "lines": frozen,
        }
    )
    inventory.save()
    _audit(acting_user, Action.EXECUTE, "Inventory", [(inventory.pk, None)])
    return inventory
