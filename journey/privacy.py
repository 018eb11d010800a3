"""Personal data never stored or logged in clear: keyed hashes (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json
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


#: A personal field's value in text that does not parse as JSON (keys and values in double or single
#: quotes, a value perhaps cut short, or a bare token), so that a broken line never carries
#: personal data into a dead-letter file.
_PERSONAL_VALUE = re.compile(
    rf"(?P<key>(?P<q>[\"'])(?:{'|'.join(PERSONAL_FIELDS)})(?P=q)\s*:\s*)"
    r"(?:(?P<vq>[\"'])(?P<text>(?:(?!(?P=vq))[^\\]|\\.)*)(?P=vq)?|(?P<token>[^,}\s]+))"
)


def redacted_line(raw: bytes, key: str) -> str | None:
    """A rejected line (or message) with the personal values it holds in clear replaced by their
    keyed hashes, for a dead-letter destination; None when it holds none. A JSON object is written
    again with every personal field hashed, wherever it stands (in `data`, or misplaced); other
    text keeps all but those values. A replayed dead letter stores the same hashes as the original
    would have."""
    text = raw.decode("utf-8", errors="replace")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if not isinstance(obj, dict | list):
        found = [m for m in _PERSONAL_VALUE.finditer(text) if not _HASHED.fullmatch(m["text"] or "")]
        if not found:
            return None
        return _PERSONAL_VALUE.sub(
            lambda m: m["key"] + json.dumps(pseudonym(m["text"] or m["token"], key)), text
        )
    hashed = _hash_personal(obj, key)
    return None if hashed == obj else json.dumps(hashed, ensure_ascii=False)


def _hash_personal(value: object, key: str) -> object:
    """The JSON value with every personal field (at any depth) in clear replaced by its keyed hash."""
    if isinstance(value, list):
        return [_hash_personal(v, key) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        k: _hashed(v, key) if k in PERSONAL_FIELDS and _in_clear(v) else _hash_personal(v, key)
        for k, v in value.items()
    }


def _in_clear(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and _HASHED.fullmatch(value))


def _hashed(value: object, key: str) -> str:
    """The keyed hash of a personal value, whatever its JSON type."""
    return pseudonym(value if isinstance(value, str) else json.dumps(value, sort_keys=True), key)
