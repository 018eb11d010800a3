"""Month-start snapshots of the dealer report's counts: a report at T reads the snapshot of the
last month start before T and the intervals that began or ended since, instead of every
interval that began before T.

A snapshot row (dealer_id, at, state..., n): n customers of the dealer were in that state at
the instant ``at`` (a UTC month start, up to HORIZON). Snapshots are kept exactly by deltas in
the transaction that replaces a customer's intervals: an interval counts +1 (new) or -1 (old)
at every month start it covers, after identical old and new intervals cancel out.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from journey.projections.timecols import micros

#: The report's state columns, in order (NULL is stored as '' in a snapshot, to be a unique key).
STATE_COLUMNS = ("intent_level", "retention_status", "car_age_segment", "usage", "held", "overdue_follow_up")
#: (dealer_id, valid_from, valid_to, *STATE_COLUMNS): what a snapshot needs of an interval.
INTERVAL_COLUMNS = ("dealer_id", "valid_from", "valid_to", *STATE_COLUMNS)
FIRST_YEAR, LAST_YEAR = 1990, 2040
#: Every snapshot instant: the month starts from FIRST_YEAR to HORIZON (later T: HORIZON + deltas).
MONTH_STARTS = [
    micros(datetime(y, m, 1, tzinfo=UTC)) for y in range(FIRST_YEAR, LAST_YEAR) for m in range(1, 13)
] + [micros(datetime(LAST_YEAR, 1, 1, tzinfo=UTC))]
HORIZON = MONTH_STARTS[-1]

Interval = tuple[Any, ...]
SnapshotKey = tuple[Any, ...]  # (dealer_id, at, *state)


def checkpoint(t: int) -> int | None:
    """The snapshot instant a report at t (micros) starts from: the month start nearest to t
    (None before the first one)."""
    i = bisect_right(MONTH_STARTS, t)
    if i == 0:
        return None
    before = MONTH_STARTS[i - 1]
    after = MONTH_STARTS[i] if i < len(MONTH_STARTS) else None
    return after if after is not None and after - t < t - before else before


def covered(valid_from: int, valid_to: int) -> list[int]:
    """The snapshot instants in [valid_from, valid_to)."""
    return MONTH_STARTS[bisect_left(MONTH_STARTS, valid_from) : bisect_left(MONTH_STARTS, valid_to)]


def snapshot_deltas(old: Iterable[Interval], new: Iterable[Interval]) -> Counter[SnapshotKey]:
    """How the snapshot counts change when intervals ``old`` are replaced by ``new``.

    Identical old and new intervals cancel out; each remaining one adds its count (+ new, - old)
    from its first covered month start to its last, kept as two steps per (dealer, state), so
    that a group of many customers expands each dealer and state once, not each interval."""
    net = Counter(new)
    net.subtract(old)
    steps: dict[tuple[Any, ...], Counter[int]] = {}
    for (dealer, valid_from, valid_to, *state), n in net.items():
        first, end = bisect_left(MONTH_STARTS, valid_from), bisect_left(MONTH_STARTS, valid_to)
        if n and first < end:
            step = steps.setdefault((dealer, *("" if v is None else v for v in state)), Counter())
            step[first] += n
            step[end] -= n
    deltas: Counter[SnapshotKey] = Counter()
    for (dealer, *stored), step in steps.items():
        running, marks = 0, sorted(step)
        for first, end in pairwise(marks):
            running += step[first]
            if running:
                deltas.update({(dealer, at, *stored): running for at in MONTH_STARTS[first:end]})
    return deltas


def as_state(stored: Iterable[Any]) -> tuple[Any, ...]:
    """A snapshot's state columns back to the interval's (the '' of NULL to None)."""
    return tuple(None if v == "" else v for v in stored)
