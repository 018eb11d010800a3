"""Instants in view tables: integer microseconds since the epoch (range look-ups on both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

OPEN_END = 2**62
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(dt: datetime) -> int:
    """An instant as integer microseconds since the epoch."""
    return (dt - EPOCH) // _MICRO


def micros_or_open(dt: datetime | None) -> int:
    """micros, with None (no end) as the far future."""
    return OPEN_END if dt is None else micros(dt)


def from_micros(value: int) -> datetime | None:
    """Back to an aware UTC datetime (None for the open end)."""
    return None if value >= OPEN_END else EPOCH + value * _MICRO
