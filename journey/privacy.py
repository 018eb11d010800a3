"""Personal data never stored or logged in clear: keyed hashes (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac

from journey.touchpoints import AnyTouchpoint, CustomerRegistered

PREFIX = "hmac-sha256:"
PERSONAL_FIELDS = ("name", "phone", "national_id")


def pseudonym(value: str, key: str) -> str:
    """The keyed hash that replaces a personal value; a value already hashed is kept."""
    if value.startswith(PREFIX):
        return value
    digest = hmac.new(key.encode(), value.strip().encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest


def redact(tp: AnyTouchpoint, key: str) -> AnyTouchpoint:
    """The touchpoint with every personal field replaced by its keyed hash."""
    if not isinstance(tp, CustomerRegistered):
        return tp
    data = tp.data
    update = {f: pseudonym(v, key) for f in PERSONAL_FIELDS if (v := getattr(data, f)) is not None}
    if not update:
        return tp
    return tp.model_copy(update={"data": data.model_copy(update=update)})
