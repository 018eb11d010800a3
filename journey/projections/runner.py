"""The tracked projection: follows the event store's notification log and rewrites the view
rows of every customer (and dealer) a range of events touched, with the tracking record
in the same transaction (exactly-once views, DESIGN.md).

SQLite's recorder cannot be subscribed to, so the runner pulls on both databases: the
ledgers a range of notifications touched, then their whole histories, many per query
(``JourneyApplication.touched`` and ``.histories``); it runs after every ingest, in the
consumer after every batch, and in `journey rebuild` into fresh tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from uuid import UUID

import structlog
from eventsourcing.persistence import Tracking

from journey.aggregates import CustomerJourney
from journey.application import JourneyApplication
from journey.errors import RulesMismatchError
from journey.locks import exclusive
from journey.projections.catalog import PARTS
from journey.projections.parts import ViewPart
from journey.projections.rows import Job, RowBuilder
from journey.projections.state_view import CUSTOMER_STATE
from journey.projections.store import ViewRecorder, open_view_recorder
from journey.projections.workers import MIN_JOBS_PER_WORKER, WorkerSpec, write_groups
from journey.rules import Rules

log = structlog.get_logger()


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
    def open(
        cls,
        app: JourneyApplication,
        rules: Rules,
        prefix: str = "views",
        workers: int = 1,
        bulk: bool = False,
    ) -> Views:
        """The views of a prefix (``bulk``: tables to fill from nothing, without their read
        indexes until adopted, see store._ddl; a catch-up from the start empties them and
        only inserts, see catch_up)."""
        recorder = open_view_recorder(app.factory, prefix=prefix, tables=[p.table for p in PARTS], bulk=bulk)
        views = cls(app, recorder, rules, workers)
        with views.lock():  # no catch-up while a summary is filled
            recorder.fill_summaries()
        return views

    def lock(self) -> AbstractContextManager[None]:
        """Processes sharing the database take turns writing these views."""
        return exclusive(self.app.database_url, f"views-{self.recorder.prefix}")

    @property
    def parts(self) -> Sequence[ViewPart]:
        return PARTS

    @property
    def rows(self) -> RowBuilder:
        return RowBuilder(self.app, self.rules, self.parts)

    @property
    def worker_spec(self) -> WorkerSpec:
        return WorkerSpec(self.app.database_url, self.app.pii_key, self.rules, self.recorder.prefix)

    @property
    def tracking_name(self) -> str:
        return f"{self.recorder.prefix}:{self.app.name}"

    def position(self) -> int:
        return self.recorder.max_tracking_id(self.tracking_name) or 0

    def lag(self) -> int:
        """Notifications recorded but not yet projected."""
        return (self.app.recorder.max_notification_id() or 0) - self.position()

    def catch_up(self, chunk: int = 500, stop: int | None = None, *, adopt_rules: bool = True) -> int:
        """Project every notification recorded so far; returns how many were processed.

        Each affected customer is recomputed once, from its whole history, however many of
        its events the range holds; a large range is computed and written by worker processes
        (``workers``, see workers.py). Groups are written in chunks (idempotent: a key's rows
        are replaced) and the tracking record once every chunk is, so a crash part-way
        leaves the position unmoved and the next run redoes the range. Processes sharing the
        database take turns (a lock), so an older snapshot never overwrites a newer one.

        Bulk views caught up from the start (a rebuild) are emptied first, rows left by an
        interrupted run included: then every key is written once, into no rows, so its rows
        are only inserted (no look-up of stored rows, no deletion).

        Views computed with other rules are rebuilt with this process's (``adopt_rules``: a writer,
        ingest or consume, deploying new rules) or left alone (a reader: RulesMismatchError, so that a
        one-off read with a what-if rules file never replaces the views every process reads).
        """
        if not self.recorder.bulk and not adopt_rules:
            self.rules_version()
        elif not self.recorder.bulk and (stored := self._other_rules()) is not None:
            return self._rebuild_for_new_rules(stored)
        with self.lock():
            return self._catch_up(chunk, stop)

    def built_with(self) -> str | None:
        """The label of the rules the stored rows were computed with (None while there are none):
        every row of the live views carries the same one, since a change of rules rebuilds them."""
        for part in self.parts:
            rows = self.recorder.select(f"SELECT rules FROM {{{part.table.name}}} LIMIT 1")
            if rows:
                return str(rows[0][0])
        return None

    def rules_version(self) -> str:
        """The label of the rules the views were computed with, which must be this process's
        (RulesMismatchError otherwise: a reader never answers from views of other rules)."""
        stored = self._other_rules()
        if stored is not None:
            raise RulesMismatchError(stored, self.rules.label)
        return self.rules.label

    def _other_rules(self) -> str | None:
        """The label the stored rows carry when it is not this process's rules' (else None)."""
        stored = self.built_with()
        return None if stored in (None, self.rules.label) else stored

    def _rebuild_for_new_rules(self, stored: str | None) -> int:
        """The rules changed since the views were computed: every customer's rows are recomputed
        with the new ones (rebuilt into fresh tables and swapped in atomically, so readers see the
        old views or the new, never a mix), and the views say so in their rules column."""
        from journey.rebuild import rebuild  # rebuild is built on Views

        log.warning("views_rules_changed", stored=stored, rules=self.rules.label)
        return rebuild(self, verify=False).notifications

    def _catch_up(self, chunk: int, stop: int | None) -> int:
        start = self.position()
        stop = stop if stop is not None else self.app.recorder.max_notification_id() or 0
        if stop <= start:
            return 0
        fresh = self.recorder.bulk and start == 0
        if fresh:
            self.recorder.clear()
        ledgers = self.app.touched(start, stop)
        customers = set(ledgers.customers) | self._customers_of(ledgers.dealers)
        jobs: list[Job] = [("dealer", d) for d in ledgers.dealers]
        jobs += [("customer", c) for c in sorted(customers)]
        chunks = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)] or [[]]
        self.last_workers = write_groups(
            self.rows,
            self.recorder,
            self.worker_spec,
            chunks,
            Tracking(self.tracking_name, stop),
            self.workers,
            self.min_jobs_per_worker,
            fresh,
        )
        log.info(
            "views_caught_up",
            notifications=stop - start,
            customers=len(customers),
            position=stop,
            workers=self.last_workers,
        )
        return stop - start

    def _customers_of(self, dealers: list[UUID]) -> set[UUID]:
        """Customers whose views depend on a dealer's standards: all who ever had it as home dealer."""
        found: set[UUID] = set()
        for own in self.app.histories(dealers).values():
            rows = self.recorder.select(
                f"SELECT DISTINCT customer_id FROM {{{CUSTOMER_STATE.name}}} WHERE dealer_id = ?",
                [own[0].touchpoint.dealer_id],
            )
            found.update(CustomerJourney.id_for(r[0]) for r in rows)
        return found
