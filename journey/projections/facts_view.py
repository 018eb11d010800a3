"""The service-fact view part (DOMAIN.md, "Service quality: the five gaps"; DESIGN.md: "Dealer
figures (gaps, KPIs) come from fact rows aggregated over a window").

Each customer's (and each dealer's own) touchpoints become the fact rows of
journey.projections.service_gaps; ``journey gaps`` selects a dealer's rows with occurred_at in
[from, to) (an index range) and aggregates them with the same pure ``gaps`` function.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from journey.projections.parts import dealer_key
from journey.projections.service_gaps import Fact, customer_facts, dealer_facts
from journey.projections.standards import StandardsLookup
from journey.projections.store import Row, Table, ViewRecorder
from journey.projections.timecols import EPOCH, json_list, micros
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

SERVICE_FACT = Table(
    name="service_fact",
    columns=(
        ("subject", "TEXT NOT NULL"),  # the customer_id, or dealer_key(dealer_id) for a dealer's facts
        ("dealer_id", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("dimension", "TEXT"),
        ("metric", "TEXT NOT NULL"),
        ("occurred_at", "BIGINT NOT NULL"),
        ("deadline", "BIGINT"),
        ("settled_at", "BIGINT"),
        ("expectation", "REAL"),
        ("perception", "REAL"),
        ("weight", "REAL"),
        ("value", "REAL"),
        ("met", "INTEGER"),
        ("overrun_hours", "REAL"),
        ("event_ids", "TEXT NOT NULL"),  # JSON list, the measured touchpoint first
        ("rules", "TEXT NOT NULL"),
    ),
    key="subject",
    indexes=(("dealer_id", "occurred_at"),),
)
#: The columns a Fact is read back from, in fact_from_row's order.
FACT_COLUMNS = (
    "dealer_id, kind, dimension, metric, occurred_at, deadline, settled_at, "
    "expectation, perception, weight, value, met, overrun_hours, event_ids"
)


def fact_row(subject: str, f: Fact, rules: Rules) -> Row:
    return (
        subject,
        f.dealer_id,
        f.kind,
        f.dimension,
        f.metric,
        micros(f.occurred_at),
        _micros(f.deadline),
        _micros(f.settled_at),
        f.expectation,
        f.perception,
        f.weight,
        f.value,
        None if f.met is None else int(f.met),
        f.overrun_hours,
        json_list(f.event_ids),
        rules.label,
    )


def fact_from_row(row: Row) -> Fact:
    """A Fact from a row selected with FACT_COLUMNS (instants in UTC)."""
    dealer, kind, dimension, metric, occurred, deadline, settled, e, p, w, v, met, overrun, ids = row
    return Fact(
        dealer_id=dealer,
        kind=kind,
        dimension=dimension,
        metric=metric,
        occurred_at=_instant(occurred),
        event_ids=tuple(json.loads(ids)),
        expectation=e,
        perception=p,
        weight=w,
        value=v,
        met=None if met is None else bool(met),
        overrun_hours=overrun,
        deadline=None if deadline is None else _instant(deadline),
        settled_at=None if settled is None else _instant(settled),
    )


def _micros(at: datetime | None) -> int | None:
    return None if at is None else micros(at)


def _instant(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


class ServiceFactView:
    """The gap facts of each customer and of each dealer's own touchpoints (management surveys)."""

    table = SERVICE_FACT

    def customer_rows(
        self, customer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules, standards: StandardsLookup
    ) -> list[Row]:
        return [fact_row(customer_id, f, rules) for f in customer_facts(touchpoints, rules, standards)]

    def dealer_rows(self, dealer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules) -> list[Row]:
        return [fact_row(dealer_key(dealer_id), f, rules) for f in dealer_facts(touchpoints, rules)]


def facts_in_window(recorder: ViewRecorder, dealer_id: str, from_: datetime, to: datetime) -> list[Fact]:
    """The dealer's facts with occurred_at in [from, to) (a range look-up on (dealer_id, occurred_at))."""
    rows = recorder.select(
        f"SELECT {FACT_COLUMNS} FROM {{service_fact}} "
        "WHERE dealer_id = ? AND occurred_at >= ? AND occurred_at < ?",
        [dealer_id, micros(from_), micros(to)],
    )
    return [fact_from_row(r) for r in rows]
