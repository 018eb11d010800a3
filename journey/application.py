"""JourneyApplication: records touchpoints on aggregates, each event_id once, in batches.

The write side of the engine. Reads of history (for the pure rules and for auditors)
come back as contract touchpoints together with the instant the engine recorded them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    OperationalError,
    ProcessRecorder,
    Tracking,
)

from journey.aggregates import CustomerJourney, Dealer, TouchpointLedger
from journey.errors import StoreUnavailableError
from journey.privacy import redact
from journey.settings import eventsourcing_env
from journey.touchpoints import AnyTouchpoint, load_touchpoint, stored_form

log = structlog.get_logger()

MAX_CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class Recorded:
    """A touchpoint as the engine holds it: the contract object and when it was recorded."""

    touchpoint: AnyTouchpoint
    recorded_at: datetime


@dataclass
class IngestOutcome:
    """What a batch did: touchpoints newly applied and those already recorded."""

    applied: int = 0
    duplicates: int = 0

    def __iadd__(self, other: IngestOutcome) -> IngestOutcome:
        self.applied += other.applied
        self.duplicates += other.duplicates
        return self


class JourneyApplication(Application[UUID]):
    """The event store of touchpoints (SQLite embedded, PostgreSQL in production)."""

    name = "journey"

    def __init__(self, database_url: str, *, pii_key: str, env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self._pii_key = pii_key
        self._dealer_histories: dict[str, tuple[int, list[Recorded]]] = {}
        base = eventsourcing_env(database_url)
        base.update(
            {
                "AGGREGATE_CACHE_MAXSIZE": "200000",  # a cached ledger is its event ids (~3 KB)
                "AGGREGATE_CACHE_FASTFORWARD": "n",
                "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
            }
        )
        base.update(env or {})
        try:
            super().__init__(env=base)
        except OperationalError as exc:
            raise StoreUnavailableError(f"database_url: cannot open the event store ({exc})") from exc

    @property
    def pii_key(self) -> str:
        """The key personal data is hashed with (worker processes open the store with it)."""
        return self._pii_key

    def construct_recorder(self) -> ApplicationRecorder:
        """A process recorder, so that a batch commits with its upstream positions."""
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    # ------------------------------------------------------------------ write side

    def ingest(self, touchpoints: Sequence[AnyTouchpoint], tracking: Tracking | None = None) -> IngestOutcome:
        """Record a batch in one transaction (with ``tracking`` when given); each event_id once."""
        for attempt in range(MAX_CONFLICT_RETRIES):
            loaded: dict[UUID, TouchpointLedger] = {}
            try:
                outcome = self._record_batch(touchpoints, tracking, loaded)
            except IntegrityError:
                self._evict(loaded)
                if tracking is not None and self._position_already_recorded(tracking):
                    log.info("batch_already_recorded", tracking=tracking.application_name)
                    return IngestOutcome(duplicates=len(touchpoints))
                log.info("ingest_conflict_retry", attempt=attempt + 1, aggregates=len(loaded))
                continue
            except BaseException:
                self._evict(loaded)
                raise
            return outcome
        raise StoreUnavailableError(
            f"ingest: gave up after {MAX_CONFLICT_RETRIES} concurrent-write conflicts"
        )

    def _record_batch(
        self,
        touchpoints: Sequence[AnyTouchpoint],
        tracking: Tracking | None,
        loaded: dict[UUID, TouchpointLedger],
    ) -> IngestOutcome:
        outcome = IngestOutcome()
        for tp in touchpoints:
            ledger = self._ledger_for(tp, loaded)
            if ledger.record(stored_form(redact(tp, self._pii_key))):
                outcome.applied += 1
            else:
                outcome.duplicates += 1
        processing = ProcessingEvent[UUID](tracking=tracking)
        processing.collect_events(*loaded.values())
        if processing.events or tracking is not None:
            self._record(processing)
        return outcome

    def _ledger_for(self, tp: AnyTouchpoint, loaded: dict[UUID, TouchpointLedger]) -> TouchpointLedger:
        cls: type[TouchpointLedger]
        cls, key = (Dealer, tp.dealer_id) if tp.customer_id is None else (CustomerJourney, tp.customer_id)
        agg_id = cls.id_for(key)
        ledger = loaded.get(agg_id)
        if ledger is None:
            try:
                ledger = self.repository.get(agg_id)
            except AggregateNotFoundError:
                ledger = cls(key)
            loaded[agg_id] = ledger
        return ledger

    def _evict(self, loaded: dict[UUID, Any]) -> None:
        cache = self.repository.cache
        if cache is not None:
            for agg_id in loaded:
                with contextlib.suppress(KeyError):
                    cache.get(agg_id, evict=True)

    def _position_already_recorded(self, tracking: Tracking) -> bool:
        return self.process_recorder.has_tracking_id(tracking.application_name, tracking.notification_id)

    def position(self, upstream: str) -> int | None:
        """The last tracked position of an upstream (e.g. a Kafka partition): the next offset to read."""
        return self.process_recorder.max_tracking_id(upstream)

    # ------------------------------------------------------------------ read side

    def customer_history(self, customer_id: str) -> list[Recorded]:
        """The customer's recorded touchpoints in recording order (empty if unknown)."""
        return self._history(CustomerJourney, customer_id)

    def dealer_history(self, dealer_id: str) -> list[Recorded]:
        """The dealer's own (dealer-level) touchpoints in recording order. Every customer read
        needs its dealers' standards, so what was read before is kept and only the events
        recorded since are read (events are immutable: the kept part cannot go stale)."""
        version, known = self._dealer_histories.get(dealer_id, (0, []))
        newer, version = self._read(Dealer, dealer_id, after=version)
        if newer:
            known = [*known, *newer]
            self._dealer_histories[dealer_id] = (version, known)
        return list(known)

    def _history(self, cls: type[TouchpointLedger], key: str) -> list[Recorded]:
        """Read straight from the event store (never from the write cache: other
        processes may have recorded since)."""
        return self._read(cls, key, after=0)[0]

    def _read(self, cls: type[TouchpointLedger], key: str, after: int) -> tuple[list[Recorded], int]:
        """The touchpoints recorded after aggregate version ``after``, and the last version read."""
        out, version = [], after
        for e in self.events.get(cls.id_for(key), gt=after or None):
            version = e.originator_version
            if isinstance(e, TouchpointLedger.TouchpointRecorded):
                out.append(Recorded(load_touchpoint(e.touchpoint), e.timestamp))
        return out, version
