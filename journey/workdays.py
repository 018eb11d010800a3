"""Working days (DOMAIN.md, gap 3 and the post_service_callback policy: "3 working days (Mon–Fri
in the touchpoint's own offset)", skipping the rules file's holidays)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

_DAY = timedelta(days=1)


def add_working_days(t: datetime, n: int, holidays: Iterable[date]) -> datetime:
    """t plus n working days at the same time of day: each step to the next calendar day counts
    only when that day, in t's own offset, is Monday to Friday and not a holiday (n = 0 gives t)."""
    if n < 0:
        raise ValueError(f"n: {n} working days cannot be negative")
    off = frozenset(holidays)
    at, counted = t, 0
    while counted < n:
        at += _DAY
        if at.weekday() < 5 and at.date() not in off:
            counted += 1
    return at
