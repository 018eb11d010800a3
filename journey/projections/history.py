"""A customer's or dealer's touchpoints as the rules see them at T.

Every rule starts from :func:`history`: the touchpoints with occurred_at <= T, each
event_id once, in (occurred_at, event_id) order, so that arrival order and duplicates
cannot change a view.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from journey.touchpoints import AnyTouchpoint

DAY = timedelta(days=1)


def history(touchpoints: Iterable[AnyTouchpoint], at: datetime | None = None) -> list[AnyTouchpoint]:
    """Deduplicated (by event_id, first occurrence in canonical order wins) touchpoints
    with occurred_at <= at, sorted by (occurred_at, event_id)."""
    seen: set[str] = set()
    out: list[AnyTouchpoint] = []
    for tp in sorted(touchpoints, key=sort_key):
        if tp.event_id in seen:
            continue
        seen.add(tp.event_id)
        if at is None or tp.occurred_at <= at:
            out.append(tp)
    return out


def sort_key(tp: AnyTouchpoint) -> tuple[datetime, str]:
    return (tp.occurred_at, tp.event_id)


def whole_days(start: datetime, end: datetime) -> int:
    """Whole days from start to end, rounded down (DOMAIN.md: "whole days are rounded down")."""
    return (end - start) // DAY
