"""A customer's or dealer's touchpoints as the rules see them at T.

Every rule starts from :func:`history`: the touchpoints with occurred_at <= T, each
event_id once, in (occurred_at, event_id) order, so that arrival order and duplicates
cannot change a view.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from journey.touchpoints import AnyTouchpoint

DAY = timedelta(days=1)
#: The smallest step of a datetime: "T past X" holds from X + TICK on.
TICK = timedelta(microseconds=1)
T = TypeVar("T")


class History(list[AnyTouchpoint]):
    """A list already deduplicated and in (occurred_at, event_id) order.

    Never changed once read: the rules memoise what they derive from it (``memo``), so that
    the views of one customer at many instants share one pass over its touchpoints.
    """

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per key for this history."""
        cache: dict[Hashable, Any] = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = make()
        return cast(T, cache[key])


def history(touchpoints: Iterable[AnyTouchpoint], at: datetime | None = None) -> History:
    """Deduplicated (by event_id, first occurrence in canonical order wins) touchpoints
    with occurred_at <= at, sorted by (occurred_at, event_id)."""
    if isinstance(touchpoints, History):
        if at is None:
            return touchpoints
        return History(touchpoints[: bisect_right(touchpoints, at, key=lambda tp: tp.occurred_at)])
    seen: set[str] = set()
    out = History()
    for tp in sorted(touchpoints, key=sort_key):
        if tp.event_id in seen:
            continue
        seen.add(tp.event_id)
        if at is None or tp.occurred_at <= at:
            out.append(tp)
    return out


def in_utc(dt: datetime) -> datetime:
    """The same instant in UTC: aware datetimes of one tzinfo compare without offset arithmetic,
    which is what the timelines' many bisections need."""
    return dt if dt.tzinfo is UTC else dt.astimezone(UTC)


def sort_key(tp: AnyTouchpoint) -> tuple[datetime, str]:
    return (tp.occurred_at, tp.event_id)


def whole_days(start: datetime, end: datetime) -> int:
    """Whole days from start to end, rounded down (DOMAIN.md: "whole days are rounded down")."""
    return (end - start) // DAY


def with_next(items: Sequence[T]) -> Iterator[tuple[T, T | None]]:
    """Each item with the one after it (None after the last)."""
    for i, item in enumerate(items):
        yield item, items[i + 1] if i + 1 < len(items) else None


def with_previous(items: Sequence[T]) -> Iterator[tuple[T, T | None]]:
    """Each item with the one before it (None before the first)."""
    for i, item in enumerate(items):
        yield item, items[i - 1] if i > 0 else None
