"""Personal data never stored or logged in clear: keyed hashes (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import re

from journey.touchpoints import AnyTouchpoint, CustomerRegistered

PREFIX = "hmac-sha256:"
PERSONAL_FIELDS = ("name", "phone", "national_id")


#: What pseudonym gives: the prefix and 64 hex digits (a value of this form is kept as it is).
_HASHED = re.compile(re.escape(PREFIX) + "[0-9a-f]{64}")


def pseudonym(value: str, key: str) -> str:
    """The keyed hash that replaces a personal value; a value already hashed is kept (only one
    of exactly that form: "hmac-sha256:Wang Fang" is hashed like any other value)."""
    if _HASHED.fullmatch(value):
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
