"""Concise builders of contract touchpoints for tests.

Every builder makes the wire dict of CONTRACT.md and passes it through
``journey.touchpoints.parse_touchpoint``, so a test touchpoint is exactly what upstream
could publish. Event ids are auto-incremented (``ev-000001``, ...) unless ``event_id`` is
given. ``at`` is an aware datetime or an RFC 3339 string; ``day(n)`` gives T0 + n days.

    visit(day(0), "revisit")                      # a browse store_visit with one signal
    callback(day(2), reached=False)               # an unreached lead_follow_up callback
    delivery(day(10), warranty_months=24)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from journey.touchpoints import DIMENSIONS, AnyTouchpoint, parse_touchpoint

#: A Monday, in UTC: the origin of test time.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CUSTOMER = "C1"
DEALER = "D1"
VIN = "LFV2A21K8N3000001"

When = datetime | str
_ids = itertools.count(1)


def day(n: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """T0 plus the given time."""
    return T0 + timedelta(days=n, hours=hours, minutes=minutes, seconds=seconds)


def next_event_id(prefix: str = "ev") -> str:
    return f"{prefix}-{next(_ids):06d}"


def _iso(at: When) -> str:
    return at if isinstance(at, str) else at.isoformat()


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None values so the contract's defaults apply; dates and datetimes to their text."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, datetime | date):
            v = v.isoformat()
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def touchpoint(
    type: str,
    at: When,
    data: Mapping[str, Any] | None = None,
    *,
    customer: str | None = CUSTOMER,
    dealer: str = DEALER,
    event_id: str | None = None,
    source: str = "test",
) -> AnyTouchpoint:
    """Any touchpoint type through the contract; the other builders use this one."""
    raw: dict[str, Any] = {
        "event_id": event_id or next_event_id(),
        "type": type,
        "dealer_id": dealer,
        "occurred_at": _iso(at),
        "source": source,
        "schema_version": 1,
        "data": _clean(data or {}),
    }
    if customer is not None:
        raw["customer_id"] = customer
    return parse_touchpoint(raw)


# ---------------------------------------------------------------- sales


def registered(at: When, usage: str | None = None, **kw: Any) -> AnyTouchpoint:
    """customer_registered, with usage private / official / commercial (optional)."""
    data: dict[str, Any] = {k: kw.pop(k) for k in ("name", "phone", "national_id") if k in kw}
    return touchpoint("customer_registered", at, {"usage": usage, **data}, **kw)


def visit(
    at: When,
    *signals: str,
    purpose: str | None = "browse",
    models: Iterable[str] = (),
    consultant_id: str | None = None,
    **kw: Any,
) -> AnyTouchpoint:
    """store_visit (purpose browse by default) carrying the given intent signals."""
    data = {
        "purpose": purpose,
        "signals": list(signals),
        "models": list(models),
        "consultant_id": consultant_id,
    }
    return touchpoint("store_visit", at, data, **kw)


def test_drive(
    at: When, *signals: str, model: str = "C260L", consultant_id: str | None = None, **kw: Any
) -> AnyTouchpoint:
    """test_drive (implies test_drive_taken) with extra signals."""
    return touchpoint(
        "test_drive", at, {"model": model, "signals": list(signals), "consultant_id": consultant_id}, **kw
    )


test_drive.__test__ = False  # type: ignore[attr-defined]


def callback(
    at: When,
    *signals: str,
    reason: str = "lead_follow_up",
    reached: bool = True,
    channel: str = "phone",
    complaint_id: str | None = None,
    **kw: Any,
) -> AnyTouchpoint:
    """callback (a reached lead_follow_up by phone unless told)."""
    data = {
        "reason": reason,
        "channel": channel,
        "reached": reached,
        "signals": list(signals),
        "complaint_id": complaint_id,
    }
    return touchpoint("callback", at, data, **kw)


def order(
    at: When,
    model: str = "C260L",
    price: str = "350000.00",
    promised_delivery_date: date | None = None,
    **kw: Any,
) -> AnyTouchpoint:
    """order_placed."""
    data = {"model": model, "price": price, "promised_delivery_date": promised_delivery_date}
    return touchpoint("order_placed", at, data, **kw)


def lead_lost(
    at: When, reason: str = "bought elsewhere", competitor: str | None = None, **kw: Any
) -> AnyTouchpoint:
    """lead_lost."""
    return touchpoint("lead_lost", at, {"reason": reason, "competitor": competitor}, **kw)


# ---------------------------------------------------------------- after-sales


def delivery(
    at: When,
    vin: str = VIN,
    model: str = "C260L",
    warranty_months: int | None = None,
    explained_items: Iterable[str] = (),
    promised_date: date | None = None,
    **kw: Any,
) -> AnyTouchpoint:
    """delivery (warranty_months defaults to the contract's 36)."""
    data = {
        "vin": vin,
        "model": model,
        "warranty_months": warranty_months,
        "explained_items": list(explained_items),
        "promised_date": promised_date,
    }
    return touchpoint("delivery", at, data, **kw)


def maintenance(
    at: When,
    kind: str = "scheduled",
    repeat_repair: bool = False,
    vin: str = VIN,
    mileage_km: int = 10_000,
    amount: str = "800.00",
    promised_ready_at: When | None = None,
    ready_at: When | None = None,
    **kw: Any,
) -> AnyTouchpoint:
    """maintenance (scheduled, not a repeat repair, unless told)."""
    data = {
        "vin": vin,
        "kind": kind,
        "mileage_km": mileage_km,
        "amount": amount,
        "promised_ready_at": promised_ready_at,
        "ready_at": ready_at,
        "repeat_repair": repeat_repair,
    }
    return touchpoint("maintenance", at, data, **kw)


def complaint(
    at: When, complaint_id: str = "K1", category: str = "attitude", severity: str = "medium", **kw: Any
) -> AnyTouchpoint:
    """complaint."""
    data = {"complaint_id": complaint_id, "category": category, "severity": severity}
    return touchpoint("complaint", at, data, **kw)


def complaint_resolved(
    at: When, complaint_id: str = "K1", satisfied: bool = True, **kw: Any
) -> AnyTouchpoint:
    """complaint_resolved."""
    return touchpoint("complaint_resolved", at, {"complaint_id": complaint_id, "satisfied": satisfied}, **kw)


def scores(value: float | Mapping[str, float]) -> dict[str, float]:
    """A {dimension: score} dict: one value for every dimension, or a partial dict over 4.0."""
    if isinstance(value, Mapping):
        return {d: float(value.get(d, 4.0)) for d in DIMENSIONS}
    return {d: float(value) for d in DIMENSIONS}


def csi(at: When, score: float, **kw: Any) -> AnyTouchpoint:
    """survey of kind csi."""
    return touchpoint("survey", at, {"kind": "csi", "csi_score": score}, **kw)


def servqual(
    at: When,
    expectations: float | Mapping[str, float] = 6.0,
    perceptions: float | Mapping[str, float] = 5.0,
    weights: Mapping[str, float] | None = None,
    **kw: Any,
) -> AnyTouchpoint:
    """survey of kind servqual (scores per dimension, a number meaning all five)."""
    data = {
        "kind": "servqual",
        "expectations": scores(expectations),
        "perceptions": scores(perceptions),
        "weights": dict(weights) if weights is not None else None,
    }
    return touchpoint("survey", at, data, **kw)


# ---------------------------------------------------------------- dealer level


def standard_set(at: When, dealer: str = DEALER, **data: Any) -> AnyTouchpoint:
    """service_standard_set (dealer level): complaint_callback_hours, ... as keywords."""
    return touchpoint("service_standard_set", at, data, customer=None, dealer=dealer)


def management_survey(
    at: When,
    perceived_expectations: float | Mapping[str, float] = 6.0,
    standards_specification: float | Mapping[str, float] = 5.0,
    dealer: str = DEALER,
    **kw: Any,
) -> AnyTouchpoint:
    """management_survey (dealer level)."""
    data = {
        "perceived_expectations": scores(perceived_expectations),
        "standards_specification": scores(standards_specification),
    }
    return touchpoint("management_survey", at, data, customer=None, dealer=dealer, **kw)
