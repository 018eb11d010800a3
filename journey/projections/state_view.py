"""The customer-state view part: validity intervals of intent level and retention status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from journey.projections.customer import CustomerState, customer_states
from journey.projections.snapshots import (
    INTERVAL_COLUMNS,
    STATE_COLUMNS,
    as_state,
    checkpoint,
    snapshot_deltas,
)
from journey.projections.standards import StandardsLookup
from journey.projections.store import Row, Summary, Table, ViewRecorder
from journey.projections.timecols import OPEN_END, json_list, micros, micros_or_open
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

STATE_SNAPSHOT = Table(
    name="state_snapshot",
    columns=(
        ("dealer_id", "TEXT NOT NULL"),
        ("at", "BIGINT NOT NULL"),
        *((c, "TEXT NOT NULL") for c in ("intent_level", "retention_status", "car_age_segment", "usage")),
        ("held", "INTEGER NOT NULL"),
        ("overdue_follow_up", "INTEGER NOT NULL"),
        ("n", "BIGINT NOT NULL"),
    ),
    key="dealer_id",
)

CUSTOMER_STATE = Table(
    name="customer_state",
    columns=(
        ("customer_id", "TEXT NOT NULL"),
        ("dealer_id", "TEXT NOT NULL"),
        ("valid_from", "BIGINT NOT NULL"),
        ("valid_to", "BIGINT NOT NULL"),
        ("intent_level", "TEXT"),
        ("retention_status", "TEXT NOT NULL"),
        ("owner", "INTEGER NOT NULL"),
        ("car_age_segment", "TEXT"),
        ("usage", "TEXT"),
        ("flags", "TEXT NOT NULL"),
        ("held", "INTEGER NOT NULL"),
        ("overdue_follow_up", "INTEGER NOT NULL"),
        ("decided_by", "TEXT NOT NULL"),
        ("rules", "TEXT NOT NULL"),
    ),
    key="customer_id",
    # covering: a report's intervals begun or ended since its snapshot come from the indexes alone
    indexes=(
        ("dealer_id", "valid_from", "valid_to", *STATE_COLUMNS),
        ("dealer_id", "valid_to", *STATE_COLUMNS),
    ),
    summary=Summary(
        table=STATE_SNAPSHOT,
        source_columns=INTERVAL_COLUMNS,
        unique=("dealer_id", "at", *STATE_COLUMNS),
        count="n",
        deltas=snapshot_deltas,
    ),
)


def state_row(customer_id: str, state: CustomerState, rules: Rules) -> Row:
    s = state.value
    return (
        customer_id,
        s.dealer_id,
        micros(state.valid_from),
        micros_or_open(state.valid_to),
        s.intent_level,
        s.retention_status,
        int(s.owner),
        s.car_age_segment,
        s.usage,
        json_list(s.flags),
        int(s.held),
        int(s.overdue_follow_up),
        json_list(s.decided_by),
        rules.label,
    )


class CustomerStateView:
    """Intervals (valid_from, valid_to, intent level, retention status, ...) per customer."""

    table = CUSTOMER_STATE

    def customer_rows(
        self, customer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules, standards: StandardsLookup
    ) -> list[Row]:
        return [state_row(customer_id, s, rules) for s in customer_states(touchpoints, rules, standards)]

    def dealer_rows(self, dealer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules) -> list[Row]:
        return []


def report_counts(recorder: ViewRecorder, dealer_id: str, t: int) -> list[Row]:
    """(state..., customers) of a dealer at t (micros), from the snapshot at the month start c
    nearest to t: plus the intervals begun in (c, t] and minus those ended there when c <= t;
    minus those begun in (t, c] and plus those ended there when c > t."""
    c = checkpoint(t)
    state = ", ".join(STATE_COLUMNS)
    counts: Counter[tuple[Any, ...]] = Counter()
    if c is not None:
        for *stored, n in recorder.select(
            f"SELECT {state}, n FROM {{state_snapshot}} WHERE dealer_id = ? AND at = ?", [dealer_id, c]
        ):
            counts[as_state(stored)] += n
    low, high, sign = (-OPEN_END, t, 1) if c is None else (c, t, 1) if c <= t else (t, c, -1)
    for column, begun in (("valid_from", 1), ("valid_to", -1)):
        for *key, n in recorder.select(
            f"SELECT {state}, COUNT(*) FROM {{customer_state}} WHERE dealer_id = ? AND {column} > ? "
            f"AND {column} <= ? GROUP BY {state}",
            [dealer_id, low, high],
        ):
            counts[tuple(key)] += sign * begun * n
    return [(*key, n) for key, n in counts.items() if n]
