"""Instants given by users (CLI flags, query parameters): RFC 3339 with an offset, or a date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from journey.errors import JourneyError


class InvalidInstantError(JourneyError, ValueError):
    """An instant parameter is not RFC 3339 with an offset (or a YYYY-MM-DD date)."""


def parse_instant(value: str, field: str) -> datetime:
    """Parse an instant; a bare date means its midnight in UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInstantError(
            f"{field}: {value!r} is not an RFC 3339 instant (e.g. 2026-06-01T00:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInstantError(f"{field}: {value!r} needs an offset (e.g. Z or +08:00)")
    return parsed


def parse_month(value: str, field: str = "month") -> tuple[datetime, datetime]:
    """A YYYY-MM month as the UTC interval [first day, first day of the next month)."""
    try:
        year, month = (int(p) for p in value.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInstantError(f"{field}: {value!r} is not a month (YYYY-MM)") from None
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end
