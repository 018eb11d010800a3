"""Column encodings of view tables: instants as integer microseconds since the epoch (range
look-ups on both databases), lists of ids and flags as JSON text."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

OPEN_END = 2**62
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(dt: datetime) -> int:
    """An instant as integer microseconds since the epoch."""
    t = dt - EPOCH
    return (t.days * 86_400 + t.seconds) * 1_000_000 + t.microseconds


def micros_or_open(dt: datetime | None) -> int:
    """micros, with None (no end) as the far future."""
    return OPEN_END if dt is None else micros(dt)


def from_micros(value: int) -> datetime | None:
    """Back to an aware UTC datetime (None for the open end)."""
    return None if value >= OPEN_END else EPOCH + value * _MICRO


#: Strings json.dumps writes as they are: printable ASCII but the quote and the backslash.
_VERBATIM = re.compile(r"[ !#-\[\]-~]*")


def json_list(items: Sequence[str]) -> str:
    """json.dumps(list(items)), without the encoder's overhead for the plain strings ids and flags
    are (remembered: consecutive intervals and versions repeat their lists)."""
    return _json_list(tuple(items))


@lru_cache(maxsize=4096)
def _json_list(items: tuple[str, ...]) -> str:
    if all(_VERBATIM.fullmatch(s) for s in items):
        return "[" + ", ".join(f'"{s}"' for s in items) + "]"
    return json.dumps(list(items))
