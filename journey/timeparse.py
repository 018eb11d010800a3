"""Instants as text: RFC 3339 with an offset, the one reading of the touchpoint contract's
instants (journey.touchpoints) and of users' (CLI flags, query parameters, which may also be a date)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TypeVar

from journey.errors import JourneyError

D = TypeVar("D", date, datetime)

#: The years an instant or a date may fall in: the rules add up to decades to an instant (windows,
#: warranties, car age), which must stay a datetime; a placeholder such as 9999-12-31 is refused.
YEARS = range(1900, 2200)

#: RFC 3339, section 5.6: "T", "t" or a space between date and time, any fraction, an offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?")


def rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time with an offset (digits past the microsecond dropped); ValueError saying
    what is wrong otherwise (datetime.fromisoformat alone also takes "10:15+0800", no seconds, ...)."""
    shape = _RFC3339.fullmatch(text)
    if shape is None:
        raise ValueError("is not an RFC 3339 date-time (e.g. 2026-05-01T10:15:00+08:00)")
    if shape["offset"] is None:
        raise ValueError("needs an offset (e.g. Z or +08:00)")
    try:
        at = datetime.fromisoformat(text.upper())  # 3.11 reads all of it but a lower-case t or z
    except ValueError as exc:  # e.g. month 13, hour 25, offset +25:00
        raise ValueError(f"is not a valid date-time ({exc})") from None
    return supported(at)


def supported(day: D) -> D:
    """The date or instant itself when its year is in YEARS; ValueError otherwise."""
    if day.year not in YEARS:
        raise ValueError(f"is outside the supported years {YEARS.start}..{YEARS.stop - 1}")
    return day


class InvalidInstantError(JourneyError, ValueError):
    """An instant parameter is not RFC 3339 with an offset (or a YYYY-MM-DD date)."""


def parse_instant(value: str, field: str) -> datetime:
    """Parse an instant; a bare date means its midnight in UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = supported(_day(text))
            return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        return rfc3339(text)
    except ValueError as exc:
        raise InvalidInstantError(f"{field}: {value!r} {exc}") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a YYYY-MM-DD date") from None


def parse_month(value: str, field: str = "month") -> tuple[datetime, datetime]:
    """A YYYY-MM month as the UTC interval [first day, first day of the next month)."""
    try:
        year, month = (int(p) for p in value.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInstantError(f"{field}: {value!r} is not a month (YYYY-MM)") from None
    try:
        supported(start)
    except ValueError as exc:
        raise InvalidInstantError(f"{field}: {value!r} {exc}") from None
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end
