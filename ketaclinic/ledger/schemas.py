"""API input and output of the ketamine ledger. Volumes are mL, given as JSON numbers or as
decimal strings ("0.25"), with at most 4 decimal places."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from ketaclinic.lib.validation import IsoDate, Text500, checked_text


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Required200 = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
    checked_text("line"),
]
Required500 = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_no_nul),
    checked_text("free"),
]
Required2000 = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_no_nul),
    checked_text("free"),
]
Secret = Annotated[StrictStr, StringConstraints(max_length=200)]


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("must be a number") from exc
    if not number.is_finite():
        raise ValueError("must be a number")
    if abs(number) >= 100_000:
        raise ValueError("must be below 100000")
    if number != number.quantize(Decimal("0.0001")):
        raise ValueError("must have at most 4 decimal places")
    return number


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be more than 0")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("must not be 0")
    return value


Volume = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_positive)]
VolumeOrZero = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_not_negative)]
SignedVolume = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_not_zero)]


def _aware_datetime(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date and time with a UTC offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date and time with a UTC offset") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must include a UTC offset, e.g. 2026-01-05T09:30:00+01:00")
    return moment


AwareDateTime = Annotated[datetime, BeforeValidator(_aware_datetime)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class LocationIn(Strict):
    name: Required200
    registrant_name: Required200
    address: Required500
    dea_number: Annotated[StrictStr, StringConstraints(max_length=40)]
    dea_expiry: IsoDate
    waste_witness_required: StrictBool = True


class StorageIn(Strict):
    name: Annotated[
        StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    kind: Literal["safe", "cabinet", "other"] = "safe"


class WitnessPolicyIn(Strict):
    waste_witness_required: StrictBool


class StorageOut(Schema):
    id: int
    name: str
    kind: str


class LocationOut(Schema):
    id: int
    name: str
    registrant_name: str
    address: str
    dea_number: str
    dea_expiry: date
    waste_witness_required: bool
    storage_locations: list[StorageOut]


class CreatedOut(Schema):
    id: int


class SupplierIn(Strict):
    name: Required200
    address: Required500
    dea_number: Annotated[StrictStr, StringConstraints(max_length=40)]


class ReceiptIn(Strict):
    location: StrictInt
    storage: StrictInt | None = None
    product_name: Required200
    ndc: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    form: Required200
    concentration_mg_per_ml: Volume
    container_volume_ml: Volume
    lot: Required200
    expiry: IsoDate
    containers: Annotated[StrictInt, Field(ge=1, le=500)]
    supplier: SupplierIn
    reference: Required200
    received_at: AwareDateTime


class ReceiptOut(Schema):
    id: int
    containers: list[int]


class EntryOut(Schema):
    id: int
    ref: str
    seq: int
    kind: str
    ml: Decimal
    draw: int | None
    session: UUID | None
    corrects: int | None
    storage: int | None
    reason: str
    method: str
    details: dict[str, Any]
    actor: str
    witness: str | None
    second_witness: str | None
    at: datetime
    hash: str


class ContainerOut(Schema):
    id: int
    location: int
    receipt: int
    product_name: str
    ndc: str
    lot: str
    expires_on: date
    mg_per_ml: Decimal
    nominal_ml: Decimal
    storage: int | None
    quarantined: bool
    expired: bool
    balance_ml: Decimal
    balance_mg: Decimal
    on_hand_ml: Decimal
    totals: dict[str, Decimal]
    history: list[EntryOut]


class ContainerSummaryOut(Schema):
    id: int
    location: int
    product_name: str
    lot: str
    expires_on: date
    balance_ml: Decimal
    balance_mg: Decimal
    quarantined: bool


class DrawIn(Strict):
    session: UUID
    volume_ml: Volume


class WasteIn(Strict):
    volume_ml: Volume
    method: Required200
    witness_username: Annotated[StrictStr, StringConstraints(max_length=150)] = ""
    witness_password: Secret = ""
    witness_otp: Annotated[StrictStr, StringConstraints(max_length=20)] = ""


class TransferIn(Strict):
    to_storage: StrictInt
    reason: Text500 = ""


class ReturnIn(Strict):
    volume_ml: Volume
    distributor: SupplierIn
    reference: Required200


class WitnessIn(Strict):
    username: Annotated[StrictStr, StringConstraints(max_length=150)]
    password: Secret
    otp: Annotated[StrictStr, StringConstraints(max_length=20)] = ""


class DestructionIn(Strict):
    volume_ml: Volume
    method: Required200
    place: Required200
    witnesses: list[WitnessIn]


class BreakageIn(Strict):
    volume_ml: Volume
    description: Required2000
    draw: StrictInt | None = None
    witness_username: Annotated[StrictStr, StringConstraints(max_length=150)] = ""
    witness_password: Secret = ""
    witness_otp: Annotated[StrictStr, StringConstraints(max_length=20)] = ""


class LossIn(Strict):
    volume_ml: Volume
    kind: Literal["theft", "significant_loss"]
    discovered_on: IsoDate
    description: Required2000
    draw: StrictInt | None = None


class LossOut(Schema):
    id: int
    notice_due: date
    form_106_due: date


class ReasonIn(Strict):
    reason: Required2000


class CorrectionIn(Strict):
    volume_ml: SignedVolume
    reason: Required2000


class CountLineIn(Strict):
    container: StrictInt
    counted_ml: VolumeOrZero
    estimated: StrictBool = False


class CountIn(Strict):
    location: StrictInt
    kind: Literal["shift", "daily"]
    lines: list[CountLineIn]


class InvestigationOut(Schema):
    id: int
    container: int
    count_entry: int
    expected_ml: Decimal
    counted_ml: Decimal
    status: str
    resolution: str
    opened_at: datetime
    resolved_at: datetime | None


class CountOut(Schema):
    id: int
    investigations: list[InvestigationOut]


class ResolveIn(Strict):
    resolution: Required2000


class InventoryIn(Strict):
    location: StrictInt
    kind: Literal["initial", "biennial"]
    taken_on: IsoDate
    business_time: Literal["opening", "close"]
    lines: list[CountLineIn]


class InventoryOut(Schema):
    id: int
    location: int
    kind: str
    taken_on: date
    business_time: str
    lines: list[dict[str, Any]]
    signed_by: str
    signed_at: datetime
    digest: str
    retain_until: date
    next_biennial_due: date


class ReconciliationOut(Schema):
    session: UUID
    problems: list[str]


class ReportQuery(Strict):
    location: int
    start: date
    end: date
