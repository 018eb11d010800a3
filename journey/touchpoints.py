"""The upstream contract: the touchpoint envelope and every payload (CONTRACT.md section 1).

Models are frozen and forbid unknown fields; a failed validation raises
:class:`InvalidTouchpointError` whose message names the field and its problem.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from journey.errors import InvalidTouchpointError
from journey.timeparse import rfc3339, supported

SCHEMA_VERSION = 1


class Dimension(StrEnum):
    """The five SERVQUAL dimensions."""

    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"
    TANGIBLES = "tangibles"


DIMENSIONS: tuple[str, ...] = tuple(d.value for d in Dimension)

Signal = Literal[
    "model_undecided",
    "deciding_model",
    "purchase_capable",
    "purchase_time_vague",
    "revisit",
    "trade_in_requested",
    "purchase_intent_expressed",
    "test_drive_taken",
    "terms_negotiated",
    "purchase_date_set",
    "next_meeting_set",
    "model_color_chosen",
    "payment_method_set",
    "delivery_date_set",
    "financing_in_progress",
    "trade_in_in_progress",
]

#: The intent level each signal supports (CONTRACT.md, "Intent signals").
SIGNAL_LEVEL: dict[str, str] = {
    "model_undecided": "C",
    "deciding_model": "C",
    "purchase_capable": "C",
    "purchase_time_vague": "C",
    "revisit": "B",
    "trade_in_requested": "B",
    "purchase_intent_expressed": "B",
    "test_drive_taken": "B",
    "terms_negotiated": "A",
    "purchase_date_set": "A",
    "next_meeting_set": "A",
    "model_color_chosen": "A",
    "payment_method_set": "H",
    "delivery_date_set": "H",
    "financing_in_progress": "H",
    "trade_in_in_progress": "H",
}

ExplainedItem = Literal["features", "operation", "maintenance_schedule", "warranty"]
EXPLAINED_ITEMS: tuple[ExplainedItem, ...] = ("features", "operation", "maintenance_schedule", "warranty")

#: The validation context of a stored touchpoint: its instants were checked at ingest and are
#: stored in the library's ISO form, so reading them back skips the check.
STORED: dict[str, bool] = {"stored": True}


def _rfc3339_text(value: Any, info: ValidationInfo) -> Any:
    """A datetime given as text must be RFC 3339 with an offset (timeparse.rfc3339); other inputs
    are left to the datetime validator."""
    if info.context is STORED:
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return rfc3339(value)
    return supported(value) if isinstance(value, datetime) else value


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be printable characters")
    return value


#: An instant: RFC 3339 with an offset (CONTRACT.md: occurred_at and every datetime inside data).
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
#: A date (YYYY-MM-DD) in the supported years.
Day = Annotated[date, AfterValidator(supported)]
Text64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]
EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"),
    AfterValidator(_printable),
]
Vin = Annotated[
    str, StringConstraints(min_length=17, max_length=17, pattern=r"^[A-HJ-NPR-Z0-9]{17}$", to_upper=False)
]
Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Likert = Annotated[float, Field(ge=1, le=7)]
PersonalText = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class DimensionScores(_Strict):
    """A 1..7 score for each of the five SERVQUAL dimensions."""

    reliability: Likert
    responsiveness: Likert
    assurance: Likert
    empathy: Likert
    tangibles: Likert

    def as_dict(self) -> dict[str, float]:
        return {d: float(getattr(self, d)) for d in DIMENSIONS}


Points = Annotated[float, Field(ge=0, le=100)]


class DimensionWeights(_Strict):
    """The respondent's importance points per dimension, summing to 100 (a dimension left out
    has none: unlike the scores, CONTRACT.md does not ask weights for all five)."""

    reliability: Points = 0
    responsiveness: Points = 0
    assurance: Points = 0
    empathy: Points = 0
    tangibles: Points = 0

    @model_validator(mode="after")
    def _sum_to_100(self) -> DimensionWeights:
        total = sum(getattr(self, d) for d in DIMENSIONS)
        if abs(total - 100) > 1e-6:
            raise ValueError(f"weights must sum to 100, got {total:g}")
        return self

    def as_dict(self) -> dict[str, float]:
        return {d: float(getattr(self, d)) for d in DIMENSIONS}


# ---------------------------------------------------------------- customer payloads


class CustomerRegisteredData(_Strict):
    usage: Literal["private", "official", "commercial"] | None = None
    # Personal data: the application replaces these by keyed hashes before storing.
    name: PersonalText | None = Field(default=None, repr=False)
    phone: PersonalText | None = Field(default=None, repr=False)
    national_id: PersonalText | None = Field(default=None, repr=False)


class StoreVisitData(_Strict):
    # optional: CONTRACT.md's own envelope example is a store_visit with signals and no purpose
    # (such a visit is a sales touchpoint by its signals, DOMAIN.md)
    purpose: Literal["browse", "negotiation", "service", "pickup", "other"] | None = None
    signals: tuple[Signal, ...] = ()
    models: tuple[Text64, ...] = ()
    consultant_id: Text64 | None = None


class TestDriveData(_Strict):
    __test__ = False
    model: Text64
    consultant_id: Text64 | None = None
    signals: tuple[Signal, ...] = ()


class OrderPlacedData(_Strict):
    model: Text64
    price: Amount
    promised_delivery_date: Day | None = None

    @field_validator("price", mode="before")
    @classmethod
    def _decimal(cls, v: Any) -> Any:
        return _to_decimal(v)


class LeadLostData(_Strict):
    reason: Text
    competitor: Text64 | None = None


class DeliveryData(_Strict):
    vin: Vin
    model: Text64
    promised_date: Day | None = None
    explained_items: tuple[ExplainedItem, ...] = ()
    warranty_months: Annotated[int, Field(ge=0, le=240)] = 36


class MaintenanceData(_Strict):
    vin: Vin
    kind: Literal["scheduled", "repair", "warranty", "accident", "recall"]
    mileage_km: Annotated[int, Field(ge=0)]
    amount: Amount
    promised_ready_at: Instant | None = None
    ready_at: Instant | None = None
    repeat_repair: bool = False

    @field_validator("amount", mode="before")
    @classmethod
    def _decimal(cls, v: Any) -> Any:
        return _to_decimal(v)


class CallbackData(_Strict):
    reason: Literal[
        "lead_follow_up", "post_delivery", "post_service", "complaint", "win_back", "care", "survey"
    ]
    channel: Literal["phone", "sms", "visit", "wechat"]
    reached: bool
    signals: tuple[Signal, ...] = ()
    complaint_id: Text64 | None = None


class ComplaintData(_Strict):
    complaint_id: Text64
    category: Literal["attitude", "repair_quality", "price", "waiting_time", "parts", "facility", "other"]
    severity: Literal["low", "medium", "high"]


class ComplaintResolvedData(_Strict):
    complaint_id: Text64
    satisfied: bool


#: The fields a survey of each kind requires (CONTRACT.md: csi_score for csi, both score sets for servqual).
_REQUIRED_BY_KIND: dict[Any, tuple[str, ...]] = {
    "csi": ("csi_score",),
    "servqual": ("expectations", "perceptions"),
}


class SurveyData(_Strict):
    kind: Literal["csi", "servqual"]
    csi_score: Annotated[float, Field(ge=0, le=100)] | None = Field(default=None, validate_default=True)
    expectations: DimensionScores | None = Field(default=None, validate_default=True)
    perceptions: DimensionScores | None = Field(default=None, validate_default=True)
    weights: DimensionWeights | None = None

    @field_validator("csi_score", "expectations", "perceptions")
    @classmethod
    def _required_by_kind(cls, value: Any, info: ValidationInfo) -> Any:
        """csi_score for a csi survey, expectations and perceptions for a servqual one (the error
        names the missing field)."""
        kind = info.data.get("kind")
        if value is None and info.field_name in _REQUIRED_BY_KIND.get(kind, ()):
            raise ValueError(f"required for a {kind} survey")
        return value


# ---------------------------------------------------------------- dealer payloads


class ServiceStandardSetData(_Strict):
    """A dealer's standards; a field left out (or null) keeps the group's default, the rules file's
    (DOMAIN.md's numbers, the contract's defaults, unless the group changed them)."""

    complaint_callback_hours: Annotated[float, Field(gt=0, le=24 * 365)] | None = None
    post_service_callback_working_days: Annotated[int, Field(ge=0, le=365)] | None = None
    post_delivery_callback_days: Annotated[int, Field(ge=0, le=365)] | None = None
    required_explained_items: tuple[ExplainedItem, ...] | None = None


class ManagementSurveyData(_Strict):
    perceived_expectations: DimensionScores
    standards_specification: DimensionScores


# ---------------------------------------------------------------- envelopes


class _Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    event_id: EventId
    dealer_id: Text64
    occurred_at: Instant
    source: Annotated[str, StringConstraints(max_length=256)] = "unknown"  # free text
    schema_version: int = SCHEMA_VERSION

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"schema_version {v} is not supported (this engine knows {SCHEMA_VERSION})")
        return v

    @property
    def is_dealer_level(self) -> bool:
        return self.type in DEALER_TYPES  # type: ignore[attr-defined]


class _CustomerEnvelope(_Envelope):
    customer_id: Text64


class _DealerEnvelope(_Envelope):
    customer_id: None = None


class CustomerRegistered(_CustomerEnvelope):
    type: Literal["customer_registered"]
    data: CustomerRegisteredData = CustomerRegisteredData()


class StoreVisit(_CustomerEnvelope):
    type: Literal["store_visit"]
    data: StoreVisitData


class TestDrive(_CustomerEnvelope):
    __test__ = False
    type: Literal["test_drive"]
    data: TestDriveData


class OrderPlaced(_CustomerEnvelope):
    type: Literal["order_placed"]
    data: OrderPlacedData


class LeadLost(_CustomerEnvelope):
    type: Literal["lead_lost"]
    data: LeadLostData


class Delivery(_CustomerEnvelope):
    type: Literal["delivery"]
    data: DeliveryData


class Maintenance(_CustomerEnvelope):
    type: Literal["maintenance"]
    data: MaintenanceData


class Callback(_CustomerEnvelope):
    type: Literal["callback"]
    data: CallbackData


class Complaint(_CustomerEnvelope):
    type: Literal["complaint"]
    data: ComplaintData


class ComplaintResolved(_CustomerEnvelope):
    type: Literal["complaint_resolved"]
    data: ComplaintResolvedData


class Survey(_CustomerEnvelope):
    type: Literal["survey"]
    data: SurveyData


class ServiceStandardSet(_DealerEnvelope):
    type: Literal["service_standard_set"]
    data: ServiceStandardSetData = ServiceStandardSetData()


class ManagementSurvey(_DealerEnvelope):
    type: Literal["management_survey"]
    data: ManagementSurveyData


CustomerTouchpoint: TypeAlias = (
    CustomerRegistered
    | StoreVisit
    | TestDrive
    | OrderPlaced
    | LeadLost
    | Delivery
    | Maintenance
    | Callback
    | Complaint
    | ComplaintResolved
    | Survey
)
DealerTouchpoint: TypeAlias = ServiceStandardSet | ManagementSurvey
AnyTouchpoint: TypeAlias = CustomerTouchpoint | DealerTouchpoint
Touchpoint = Annotated[AnyTouchpoint, Field(discriminator="type")]

TYPES: dict[str, type[_Envelope]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in (
        CustomerRegistered,
        StoreVisit,
        TestDrive,
        OrderPlaced,
        LeadLost,
        Delivery,
        Maintenance,
        Callback,
        Complaint,
        ComplaintResolved,
        Survey,
        ServiceStandardSet,
        ManagementSurvey,
    )
}
DEALER_TYPES = frozenset({"service_standard_set", "management_survey"})

_adapter: TypeAdapter[AnyTouchpoint] = TypeAdapter(Touchpoint)


def _to_decimal(v: Any) -> Any:
    """A decimal is a JSON number or a string holding one (CONTRACT.md)."""
    if isinstance(v, bool):
        return v  # rejected by the strict Decimal validator
    if isinstance(v, int | float | str):
        try:
            return Decimal(str(v))
        except ArithmeticError:
            return v
    return v


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False):
        loc = list(e["loc"])
        if loc and loc[0] in TYPES:  # drop the discriminator tag pydantic puts first
            loc = loc[1:]
        where = ".".join(str(x) for x in loc) or "touchpoint"
        if e["type"] == "union_tag_invalid":
            where = "type"
            msg = (
                f"unknown type {e.get('input', {}).get('type')!r}"
                if isinstance(e.get("input"), dict)
                else "unknown type"
            )
        elif e["type"] == "union_tag_not_found":
            where, msg = "type", "field required"
        else:
            msg = e["msg"]
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def parse_touchpoint(raw: str | bytes | dict[str, Any]) -> AnyTouchpoint:
    """Validate one touchpoint (a JSON text or an already decoded object).

    Raises InvalidTouchpointError naming the field when it breaks the contract.
    """
    text = json.dumps(raw) if isinstance(raw, dict) else raw
    try:
        return _adapter.validate_json(text)
    except ValidationError as exc:
        kinds = {e["type"] for e in exc.errors(include_url=False)}
        if "json_invalid" in kinds:
            raise InvalidTouchpointError("json", "not valid JSON") from None
        if kinds & {"model_attributes_type", "dict_type", "model_type"} and not _is_object(text):
            raise InvalidTouchpointError("touchpoint", "must be a JSON object") from None
        raise InvalidTouchpointError(_first_field(exc), _describe(exc)) from None
    except UnicodeDecodeError:
        raise InvalidTouchpointError("json", "not valid UTF-8") from None


def _is_object(text: str | bytes) -> bool:
    return text.lstrip()[:1] in ("{", b"{")


def _first_field(err: ValidationError) -> str:
    for e in err.errors(include_url=False):
        loc = list(e["loc"])
        if loc and loc[0] in TYPES:
            loc = loc[1:]
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            return "type"
        return ".".join(str(x) for x in loc) or "touchpoint"
    return "touchpoint"


def touchpoint_json(tp: AnyTouchpoint) -> str:
    """The canonical JSON of a touchpoint (the contract's wire form)."""
    return tp.model_dump_json(exclude_none=False)


def json_schema() -> dict[str, Any]:
    """The JSON Schema upstream producers validate against."""
    schema = _adapter.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "journey touchpoint (schema_version 1)"
    return schema


def occurred_utc(tp: AnyTouchpoint) -> datetime:
    return tp.occurred_at


def load_touchpoint(stored: dict[str, Any]) -> AnyTouchpoint:
    """Rebuild a touchpoint from its stored JSON object (already validated at ingest)."""
    return _adapter.validate_python(stored, strict=False, context=STORED)


def stored_form(tp: AnyTouchpoint) -> dict[str, Any]:
    """The JSON object a touchpoint is stored as."""
    return tp.model_dump(mode="json")
