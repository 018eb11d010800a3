"""A Kafka message checked against the contract, and against its key (CONTRACT.md: key = customer_id)."""

from __future__ import annotations

from typing import Any

from journey.errors import InvalidTouchpointError
from journey.touchpoints import AnyTouchpoint, parse_touchpoint


def touchpoint_of(record: Any) -> AnyTouchpoint:
    """The touchpoint a message carries; raises InvalidTouchpointError (field and reason) if bad."""
    if record.value is None:
        raise InvalidTouchpointError("value", "empty message")
    tp = parse_touchpoint(record.value)
    key = (record.key or b"").decode("utf-8", errors="replace")
    expected = tp.customer_id if tp.customer_id is not None else tp.dealer_id
    if tp.customer_id is not None and key != expected:
        raise InvalidTouchpointError("key", f"message key {key[:64]!r} is not the customer_id {expected!r}")
    if tp.customer_id is None and key not in ("", expected):
        raise InvalidTouchpointError("key", f"message key {key[:64]!r} is not the dealer_id {expected!r}")
    return tp
