"""The tracked projection: follows the event store's notification log and rewrites the view
rows of every customer (and dealer) a range of events touched, with the tracking record
in the same transaction (exactly-once views, DESIGN.md).

SQLite's recorder cannot be subscribed to, so the runner pulls with
``select_notifications`` on both databases; it runs after every ingest, in the consumer
after every batch, and in `journey rebuild` into fresh tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from eventsourcing.persistence import Tracking

from journey.application import JourneyApplication
from journey.locks import exclusive
from journey.projections.catalog import PARTS
from journey.projections.history import history
from journey.projections.parts import ViewPart, dealer_key
from journey.projections.standards import StandardsLookup, standards_lookup
from journey.projections.state_view import CUSTOMER_STATE
from journey.projections.store import Row, ViewRecorder, open_view_recorder
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

log = structlog.get_logger()


@dataclass
class Affected:
    """The customers and dealers whose views a range of events changes."""

    customers: set[str] = field(default_factory=set)
    dealers: set[str] = field(default_factory=set)


@dataclass
class Views:
    """The tracked projection of one application into one set of view tables (a prefix)."""

    app: JourneyApplication
    recorder: ViewRecorder
    rules: Rules
    parts: Sequence[ViewPart] = PARTS

    @classmethod
    def open(cls, app: JourneyApplication, rules: Rules, prefix: str = "views") -> Views:
        recorder = open_view_recorder(app.factory, prefix=prefix, tables=[p.table for p in PARTS])
        return cls(app, recorder, rules)

    @property
    def tracking_name(self) -> str:
        return f"{self.recorder.prefix}:{self.app.name}"

    def position(self) -> int:
        return self.recorder.max_tracking_id(self.tracking_name) or 0

    def lag(self) -> int:
        """Notifications recorded but not yet projected."""
        return (self.app.recorder.max_notification_id() or 0) - self.position()

    def catch_up(self, page_size: int = 5000, chunk: int = 500, stop: int | None = None) -> int:
        """Project every notification recorded so far; returns how many were processed.

        Each affected customer is recomputed once, from its whole history, however many of
        its events the range holds. Groups are written in chunks (idempotent: a key's rows
        are replaced); the last chunk carries the tracking record, so a crash part-way
        leaves the position unmoved and the next run redoes the range. Processes sharing the
        database take turns (a lock), so an older snapshot never overwrites a newer one.
        """
        with exclusive(self.app.database_url, f"views-{self.recorder.prefix}"):
            return self._catch_up(page_size, chunk, stop)

    def _catch_up(self, page_size: int, chunk: int, stop: int | None) -> int:
        start = self.position()
        stop = stop if stop is not None else self.app.recorder.max_notification_id() or 0
        if stop <= start:
            return 0
        affected = self._affected(start, stop, page_size)
        affected.customers |= self._customers_of(affected.dealers)
        jobs: list[tuple[str, str]] = [("dealer", d) for d in sorted(affected.dealers)]
        jobs += [("customer", c) for c in sorted(affected.customers)]
        chunks = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)] or [[]]
        for i, group in enumerate(chunks):
            tracking = Tracking(self.tracking_name, stop) if i == len(chunks) - 1 else None
            self.recorder.write(self.changes_for(group), tracking)
        log.info(
            "views_caught_up", notifications=stop - start, customers=len(affected.customers), position=stop
        )
        return stop - start

    def changes_for(self, jobs: Iterable[tuple[str, str]]) -> dict[str, dict[str, list[Row]]]:
        """The complete new rows, per table and key, of the given customers and dealers."""
        changes: dict[str, dict[str, list[Row]]] = {p.table.name: {} for p in self.parts}
        lookups: dict[frozenset[str], StandardsLookup] = {}
        for kind, key in jobs:
            if kind == "dealer":
                own = history(r.touchpoint for r in self.app.dealer_history(key))
                for part in self.parts:
                    changes[part.table.name][dealer_key(key)] = part.dealer_rows(key, own, self.rules)
                continue
            touchpoints = history(r.touchpoint for r in self.app.customer_history(key))
            standards = self._standards(touchpoints, lookups)
            for part in self.parts:
                changes[part.table.name][key] = part.customer_rows(key, touchpoints, self.rules, standards)
        return changes

    def _affected(self, start: int, stop: int, page_size: int) -> Affected:
        affected = Affected()
        position = start
        while position < stop:
            page = self.app.recorder.select_notifications(
                position, page_size, stop=stop, inclusive_of_start=False
            )
            if not page:
                break
            for n in page:
                tp = getattr(self.app.mapper.to_domain_event(n), "touchpoint", None)
                if tp is None:
                    continue
                if tp.get("customer_id") is None:
                    affected.dealers.add(tp["dealer_id"])
                else:
                    affected.customers.add(tp["customer_id"])
            position = page[-1].id
        return affected

    def _standards(
        self, touchpoints: Sequence[AnyTouchpoint], cache: dict[frozenset[str], StandardsLookup]
    ) -> StandardsLookup:
        dealers = frozenset(tp.dealer_id for tp in touchpoints)
        if dealers not in cache:
            dealer_tps = [r.touchpoint for d in sorted(dealers) for r in self.app.dealer_history(d)]
            cache[dealers] = standards_lookup(dealer_tps, self.rules)
        return cache[dealers]

    def _customers_of(self, dealers: set[str]) -> set[str]:
        """Customers whose views depend on a dealer's standards: all who ever had it as home dealer."""
        found: set[str] = set()
        for dealer in dealers:
            rows = self.recorder.select(
                f"SELECT DISTINCT customer_id FROM {{{CUSTOMER_STATE.name}}} WHERE dealer_id = ?", [dealer]
            )
            found.update(r[0] for r in rows)
        return found
