"""JourneyApplication: records touchpoints on aggregates, each event_id once, in batches.

The write side of the engine. Reads of history (for the pure rules and for auditors)
come back as contract touchpoints together with the instant the engine recorded them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, cast
from uuid import UUID

import structlog
from eventsourcing.application import Application, ProcessingEvent, project_aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from journey.aggregates import CustomerJourney, Dealer, TouchpointLedger
from journey.errors import StoreUnavailableError
from journey.privacy import redact
from journey.recorders import RECORDER_TOPICS, BatchRecorder
from journey.settings import eventsourcing_env
from journey.touchpoints import STORED, AnyTouchpoint, Touchpoint, load_touchpoint, stored_form

log = structlog.get_logger()

MAX_CONFLICT_RETRIES = 5
DEALER_CREATED = get_topic(Dealer.Created)
TOUCHPOINT_RECORDED = get_topic(TouchpointLedger.TouchpointRecorded)
LEDGER_IDS_CACHED = 200_000


@lru_cache(maxsize=LEDGER_IDS_CACHED)
def ledger_id(cls: type[TouchpointLedger], key: str) -> UUID:
    """The aggregate id of a customer's or dealer's ledger (a uuid5, worth remembering)."""
    return cls.id_for(key)


def ledger_of(tp: AnyTouchpoint) -> tuple[type[TouchpointLedger], str]:
    """The ledger a touchpoint is recorded on: its customer's, or its dealer's for dealer-level types."""
    return (Dealer, tp.dealer_id) if tp.customer_id is None else (CustomerJourney, tp.customer_id)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A touchpoint as the engine holds it: the contract object and when it was recorded."""

    touchpoint: AnyTouchpoint
    recorded_at: datetime

    @classmethod
    def of(cls, event: TouchpointLedger.TouchpointRecorded) -> Recorded:
        return cls(load_touchpoint(event.touchpoint), event.timestamp)


@with_config(ConfigDict(extra="forbid"))
class _StoredDatetime(TypedDict):
    """A datetime as the library's JSON transcoder stores it (DatetimeAsISO)."""

    _type_: Literal["datetime_iso"]
    _data_: str


@with_config(ConfigDict(extra="forbid"))
class _StoredRecording(TypedDict):
    """The stored state of a TouchpointRecorded event (JSON, neither compressed nor enciphered)."""

    timestamp: _StoredDatetime
    touchpoint: Touchpoint


_stored_recording = TypeAdapter(_StoredRecording)
#: The library's own decoding of a stored datetime (stores_plain_json checks it is this one).
_DATETIME = DatetimeAsISO()


@lru_cache
def records_touchpoint(topic: str) -> bool:
    """Whether the stored events of a topic record a touchpoint (a ledger's Created does not)."""
    return issubclass(resolve_topic(topic), TouchpointLedger.TouchpointRecorded)


def stores_plain_json(mapper: Mapper[UUID]) -> bool:
    """Whether the library's own mapper stores events as plain JSON: a TouchpointRecorded state
    then decodes in one pass, as :class:`_StoredRecording`, to what the mapper would give."""
    transcoder = mapper.transcoder
    return (
        type(mapper) is Mapper
        and mapper.cipher is None
        and mapper.compressor is None
        and type(transcoder) is JSONTranscoder
        and isinstance(transcoder.names.get("datetime_iso"), DatetimeAsISO)
        and getattr(TouchpointLedger.TouchpointRecorded, "class_version", 1) == 1  # no upcasting
    )


@dataclass
class Touched:
    """The customer and dealer ledgers (aggregate ids) that a range of notifications touched."""

    customers: list[UUID] = field(default_factory=list)
    dealers: list[UUID] = field(default_factory=list)


@dataclass(frozen=True)
class TrackedBatch:
    """Touchpoints read from an upstream (e.g. a Kafka partition) and the position after them."""

    position: Tracking
    touchpoints: Sequence[AnyTouchpoint]


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
        base["PROCESS_RECORDER_TOPIC"] = RECORDER_TOPICS[base["PERSISTENCE_MODULE"]]
        base.update(env or {})
        try:
            super().__init__(env=base)
        except OperationalError as exc:
            raise StoreUnavailableError(f"database_url: cannot open the event store ({exc})") from exc
        self._plain_json = stores_plain_json(self.mapper)
        if self._plain_json and base.get("CREATE_TABLE", "y") != "n":
            indexed = self.process_recorder.index_event_ids(TOUCHPOINT_RECORDED)
            if indexed:
                log.info("event_ids_indexed", touchpoints=indexed)  # a store older than the index

    @property
    def pii_key(self) -> str:
        """The key personal data is hashed with (worker processes open the store with it)."""
        return self._pii_key

    def construct_recorder(self) -> ApplicationRecorder:
        """A process recorder, so that a batch commits with its upstream positions."""
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> BatchRecorder:
        assert isinstance(self.recorder, BatchRecorder)
        return self.recorder

    # ------------------------------------------------------------------ write side

    def ingest(self, touchpoints: Sequence[AnyTouchpoint], tracking: Tracking | None = None) -> IngestOutcome:
        """Record a batch in one transaction (with ``tracking`` when given); each event_id once."""
        if tracking is None:
            outcome = self._ingest([], touchpoints)
            assert outcome is not None  # only a position can be already recorded
            return outcome
        return self.ingest_tracked([TrackedBatch(tracking, touchpoints)])

    def ingest_tracked(self, batches: Sequence[TrackedBatch]) -> IngestOutcome:
        """Record several upstreams' batches in one transaction together with each one's position;
        each event_id once. A batch whose position is already recorded (a replay) counts as
        duplicates and the others are recorded without it."""
        pending = list(batches)
        outcome = IngestOutcome()
        while pending:
            recorded = self._ingest(pending, [tp for b in pending for tp in b.touchpoints])
            if recorded is not None:
                outcome += recorded
                return outcome
            done = [self._position_already_recorded(b.position) for b in pending]
            for batch in (b for b, d in zip(pending, done, strict=True) if d):
                log.info("batch_already_recorded", tracking=batch.position.application_name)
                outcome.duplicates += len(batch.touchpoints)
            pending = [b for b, d in zip(pending, done, strict=True) if not d]
        return outcome

    def _ingest(
        self, batches: Sequence[TrackedBatch], touchpoints: Sequence[AnyTouchpoint]
    ) -> IngestOutcome | None:
        """Record touchpoints with the batches' positions, retrying write conflicts; None if a
        position did not advance (some batch was recorded already)."""
        positions = [b.position for b in batches]
        for attempt in range(MAX_CONFLICT_RETRIES):
            loaded: dict[UUID, TouchpointLedger] = {}
            try:
                return self._record_batch(touchpoints, positions, loaded)
            except IntegrityError:
                self._evict(loaded)
                if any(self._position_already_recorded(p) for p in positions):
                    return None
                log.info("ingest_conflict_retry", attempt=attempt + 1, aggregates=len(loaded))
                continue
            except BaseException:
                self._evict(loaded)
                raise
        raise StoreUnavailableError(
            f"ingest: gave up after {MAX_CONFLICT_RETRIES} concurrent-write conflicts"
        )

    def _record_batch(
        self,
        touchpoints: Sequence[AnyTouchpoint],
        positions: Sequence[Tracking],
        loaded: dict[UUID, TouchpointLedger],
    ) -> IngestOutcome:
        outcome = IngestOutcome()
        # the event_id is the idempotency key of the whole store (CONTRACT.md): one recorded on another
        # ledger (another customer_id, say) is that touchpoint delivered again, not a new one
        owners = self.process_recorder.select_event_ledgers(list({tp.event_id for tp in touchpoints}))
        indexed: list[tuple[str, UUID]] = []
        for tp, ledger in zip(touchpoints, self._ledgers(touchpoints, loaded), strict=True):
            owner = owners.setdefault(tp.event_id, ledger.id)
            if owner == ledger.id and ledger.record(stored_form(redact(tp, self._pii_key))):
                outcome.applied += 1
                indexed.append((tp.event_id, ledger.id))
                continue
            outcome.duplicates += 1
            if owner != ledger.id:
                log.warning("event_id_recorded_elsewhere", event_id=tp.event_id, type=tp.type)
        processing = ProcessingEvent[UUID]()
        processing.collect_events(*loaded.values(), positions=positions, event_ids=indexed)
        if processing.events or positions:
            self._record(processing)
        return outcome

    def _ledgers(
        self, touchpoints: Sequence[AnyTouchpoint], loaded: dict[UUID, TouchpointLedger]
    ) -> list[TouchpointLedger]:
        """Each touchpoint's ledger, from the aggregate cache or, for all the others at once, the store."""
        ids = [ledger_id(*ledger_of(tp)) for tp in touchpoints]
        cache = self.repository.cache
        missing: dict[UUID, AnyTouchpoint] = {}
        for agg_id, tp in zip(ids, touchpoints, strict=True):
            if agg_id in loaded or agg_id in missing:
                continue
            try:
                if cache is None:
                    raise KeyError(agg_id)
                loaded[agg_id] = cast(TouchpointLedger, cache.get(agg_id))
            except KeyError:
                missing[agg_id] = tp
        stored = self.process_recorder.select_histories(list(missing)) if missing else {}
        for agg_id, tp in missing.items():
            events = stored.get(agg_id)
            if events:
                ledger = project_aggregate(None, map(self.mapper.to_domain_event, events))
                loaded[agg_id] = cast(TouchpointLedger, ledger)
            else:
                cls, key = ledger_of(tp)
                loaded[agg_id] = cls(key)
        return [loaded[agg_id] for agg_id in ids]

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

    def touched(self, start: int, stop: int) -> Touched:
        """The ledgers with a notification in (start, stop], told apart by their creation event."""
        out = Touched()
        for originator, first_topic in self.process_recorder.select_touched(start, stop):
            (out.dealers if first_topic == DEALER_CREATED else out.customers).append(originator)
        out.customers.sort()
        out.dealers.sort()
        return out

    def histories(self, ledgers: Sequence[UUID]) -> dict[UUID, list[Recorded]]:
        """Every touchpoint recorded on each of these ledgers, in recording order (many ledgers
        per query; no entry for an unknown id)."""
        stored = self.process_recorder.select_histories(ledgers)
        return {ledger: self._recorded(events) for ledger, events in stored.items()}

    def _history(self, cls: type[TouchpointLedger], key: str) -> list[Recorded]:
        """Read straight from the event store (never from the write cache: other
        processes may have recorded since)."""
        return self._read(cls, key, after=0)[0]

    def _read(self, cls: type[TouchpointLedger], key: str, after: int) -> tuple[list[Recorded], int]:
        """The touchpoints recorded after aggregate version ``after``, and the last version read."""
        stored = self.recorder.select_events(cls.id_for(key), gt=after or None)
        return self._recorded(stored), stored[-1].originator_version if stored else after

    def _recorded(self, events: Sequence[StoredEvent]) -> list[Recorded]:
        """The touchpoints that stored events recorded, in their order (skipping the others)."""
        return [self._decode(e) for e in events if records_touchpoint(e.topic)]

    def _decode(self, stored: StoredEvent) -> Recorded:
        """One recorded touchpoint: its stored JSON validated in one pass when the state is plain
        JSON of the current topic, otherwise (or if that fails) through the library's mapper."""
        if self._plain_json and stored.topic == TOUCHPOINT_RECORDED:
            try:
                state = _stored_recording.validator.validate_json(stored.state, strict=False, context=STORED)
            except ValidationError:
                pass  # not that form after all: the mapper decodes it, or raises what it raises
            else:
                return Recorded(state["touchpoint"], _DATETIME.decode(state["timestamp"]["_data_"]))
        event = self.mapper.to_domain_event(stored)
        return Recorded.of(cast(TouchpointLedger.TouchpointRecorded, event))
