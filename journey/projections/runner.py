"""The tracked projection: follows the event store's notification log and rewrites the view
rows of every customer (and dealer) a range of events touched, with the tracking record
in the same transaction (exactly-once views, DESIGN.md).

SQLite's recorder cannot be subscribed to, so the runner pulls with
``select_notifications`` on both databases; it runs after every ingest, in the consumer
after every batch, and in `journey rebuild` into fresh tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from eventsourcing.persistence import Tracking

from journey.application import JourneyApplication
from journey.locks import exclusive
from journey.projections.catalog import PARTS
from journey.projections.parts import ViewPart
from journey.projections.rows import RowBuilder
from journey.projections.state_view import CUSTOMER_STATE
from journey.projections.store import ViewRecorder, open_view_recorder
from journey.projections.workers import MIN_JOBS_PER_WORKER, WorkerSpec, row_stream
from journey.rules import Rules

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
    workers: int = 1
    min_jobs_per_worker: int = MIN_JOBS_PER_WORKER
    last_workers: int = 0  # processes that computed the last catch-up's rows

    @classmethod
    def open(cls, app: JourneyApplication, rules: Rules, prefix: str = "views", workers: int = 1) -> Views:
        recorder = open_view_recorder(app.factory, prefix=prefix, tables=[p.table for p in PARTS])
        with exclusive(app.database_url, f"views-{prefix}"):  # no catch-up while a summary is filled
            recorder.fill_summaries()
        return cls(app, recorder, rules, workers)

    @property
    def parts(self) -> Sequence[ViewPart]:
        return PARTS

    @property
    def rows(self) -> RowBuilder:
        return RowBuilder(self.app, self.rules, self.parts)

    @property
    def worker_spec(self) -> WorkerSpec:
        return WorkerSpec(self.app.database_url, self.app.pii_key, self.rules)

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
        its events the range holds; a large range is computed by worker processes
        (``workers``, see workers.py). Groups are written in chunks (idempotent: a key's rows
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
        spec = self.worker_spec
        with row_stream(self.rows, spec, chunks, self.workers, self.min_jobs_per_worker) as stream:
            self.last_workers = stream.workers
            for i, changes in enumerate(stream.changes):
                tracking = Tracking(self.tracking_name, stop) if i == len(chunks) - 1 else None
                self.recorder.write(changes, tracking)
        log.info(
            "views_caught_up",
            notifications=stop - start,
            customers=len(affected.customers),
            position=stop,
            workers=self.last_workers,
        )
        return stop - start

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

    def _customers_of(self, dealers: set[str]) -> set[str]:
        """Customers whose views depend on a dealer's standards: all who ever had it as home dealer."""
        found: set[str] = set()
        for dealer in dealers:
            rows = self.recorder.select(
                f"SELECT DISTINCT customer_id FROM {{{CUSTOMER_STATE.name}}} WHERE dealer_id = ?", [dealer]
            )
            found.update(r[0] for r in rows)
        return found
