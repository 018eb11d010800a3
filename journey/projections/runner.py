"""The tracked projection of customer states: follows the event store's notification log
and rewrites the states of every customer a batch touched, with the tracking record in
the same transaction (exactly-once views, DESIGN.md).

SQLite's recorder cannot be subscribed to, so the runner pulls with
``select_notifications`` on both databases; it is driven after every ingest batch, by
the consumer, and by `journey rebuild`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from eventsourcing.persistence import Tracking

from journey.application import JourneyApplication
from journey.projections.customer import CustomerState, customer_states
from journey.projections.standards import StandardsLookup, standards_lookup
from journey.projections.store import Row, Table, ViewRecorder, open_view_recorder
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

log = structlog.get_logger()

OPEN_END = 2**62
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
    indexes=(("dealer_id", "valid_from", "valid_to"),),
)
TABLES = (CUSTOMER_STATE,)


def micros(dt: datetime) -> int:
    """An instant as integer microseconds since the epoch (the view tables' time column)."""
    return (dt - EPOCH) // _MICRO


_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH


def state_row(customer_id: str, s: CustomerState, rules: Rules) -> Row:
    return (
        customer_id,
        s.dealer_id,
        micros(s.valid_from),
        OPEN_END if s.valid_to is None else micros(s.valid_to),
        s.intent_level,
        s.retention_status,
        int(s.owner),
        s.car_age_segment,
        s.usage,
        json.dumps(list(s.flags)),
        int(s.held),
        int(s.overdue_follow_up),
        json.dumps(list(s.decided_by)),
        rules.label,
    )


@dataclass
class CustomerViews:
    """The customer-state projection of one application into one set of view tables."""

    app: JourneyApplication
    recorder: ViewRecorder
    rules: Rules

    @classmethod
    def open(cls, app: JourneyApplication, rules: Rules, prefix: str = "views") -> CustomerViews:
        return cls(app, open_view_recorder(app.factory, prefix=prefix, tables=TABLES), rules)

    @property
    def tracking_name(self) -> str:
        return f"{self.recorder.prefix}:{self.app.name}"

    def position(self) -> int:
        return self.recorder.max_tracking_id(self.tracking_name) or 0

    def lag(self) -> int:
        """Notifications recorded but not yet projected."""
        return (self.app.recorder.max_notification_id() or 0) - self.position()

    def catch_up(self, page_size: int = 5000, chunk: int = 500) -> int:
        """Project every notification recorded so far; returns how many were processed.

        Each affected customer is recomputed once, from its whole history, however many of
        its events the range holds. Customer groups are written in chunks (idempotent: a
        key's rows are replaced); the last chunk carries the tracking record, so a crash
        part-way leaves the position unmoved and the next run redoes the range.
        """
        start = self.position()
        stop = self.app.recorder.max_notification_id() or 0
        if stop <= start:
            return 0
        customers = self._affected(start, stop, page_size)
        ordered = sorted(customers)
        chunks = [ordered[i : i + chunk] for i in range(0, len(ordered), chunk)] or [[]]
        for i, group in enumerate(chunks):
            last = i == len(chunks) - 1
            tracking = Tracking(self.tracking_name, stop) if last else None
            self.recorder.write({CUSTOMER_STATE.name: self.rows_for(group)}, tracking)
        log.info("views_caught_up", notifications=stop - start, customers=len(ordered), position=stop)
        return stop - start

    def _affected(self, start: int, stop: int, page_size: int) -> set[str]:
        """The customers whose views the notifications in (start, stop] change."""
        customers: set[str] = set()
        dealers: set[str] = set()
        position = start
        while position < stop:
            page = self.app.recorder.select_notifications(position, page_size, stop=stop, inclusive_of_start=False)
            if not page:
                break
            for n in page:
                tp = getattr(self.app.mapper.to_domain_event(n), "touchpoint", None)
                if tp is None:
                    continue
                if tp.get("customer_id") is None:
                    dealers.add(tp["dealer_id"])
                else:
                    customers.add(tp["customer_id"])
            position = page[-1].id
        return customers | self._customers_of(dealers)

    def rows_for(self, customers: Iterable[str]) -> dict[str, list[Row]]:
        lookups: dict[frozenset[str], StandardsLookup] = {}
        out: dict[str, list[Row]] = {}
        for cid in sorted(customers):
            touchpoints = [r.touchpoint for r in self.app.customer_history(cid)]
            standards = self._standards(touchpoints, lookups)
            out[cid] = [state_row(cid, s, self.rules) for s in customer_states(touchpoints, self.rules, standards)]
        return out

    def _standards(
        self, touchpoints: list[AnyTouchpoint], cache: dict[frozenset[str], StandardsLookup]
    ) -> StandardsLookup:
        dealers = frozenset(tp.dealer_id for tp in touchpoints)
        if dealers not in cache:
            dealer_tps = [r.touchpoint for d in sorted(dealers) for r in self.app.dealer_history(d)]
            cache[dealers] = standards_lookup(dealer_tps, self.rules)
        return cache[dealers]

    def _customers_of(self, dealers: set[str]) -> set[str]:
        found: set[str] = set()
        for dealer in dealers:
            rows = self.recorder.select("SELECT DISTINCT customer_id FROM {customer_state} WHERE dealer_id = ?", [dealer])
            found.update(r[0] for r in rows)
        return found
