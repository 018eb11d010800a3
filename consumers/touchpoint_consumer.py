"""`journey consume`: the Kafka consumer of touchpoints, effectively exactly once.

Each polled batch is validated against the contract; rejected messages go to the dead-letter
topic (flushed first), then the good touchpoints of every partition of the poll are recorded in
one transaction together with each partition's next offset (`JourneyApplication.ingest_tracked`).
The event store's tracking record is the consumer's position: on assignment a partition is
sought to it, so a crash anywhere replays at most the batch in hand, and that replay is
recognised (position already recorded, event_id already recorded). Offsets are committed to
Kafka as well, for monitoring only. The views are a tracked projection of the store, caught up
at the head of the stream and at least every `views_max_delay` seconds while a backlog drains
(DESIGN.md, "Idempotent ingest", "Exactly-once views").
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import structlog
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    Tracking,
)
from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata
from kafka.errors import KafkaConnectionError, KafkaError

from consumers.dead_letters import DeadLetters
from consumers.kafka_config import consumer_config
from consumers.stop_signals import stop_on_signals
from consumers.validation import touchpoint_of
from journey.application import TrackedBatch
from journey.collections_gc import fewer_collections
from journey.engine import Engine
from journey.errors import InvalidTouchpointError, JourneyError, StoreUnavailableError
from journey.settings import Settings
from journey.touchpoints import AnyTouchpoint

log = structlog.get_logger()

T = TypeVar("T")

BATCH_SIZE = 2000  # per poll; one transaction with a position per partition
POLL_TIMEOUT_MS = 500
PROGRESS_EVERY_S = 5.0
VIEWS_MAX_DELAY_S = 30.0
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
#: Failures that clear by themselves (broker or database away, write conflicts): log, back off, retry.
TRANSIENT: tuple[type[Exception], ...] = (
    KafkaError,
    StoreUnavailableError,
    OperationalError,
    InterfaceError,
    InternalError,
    IntegrityError,
)
#: A catch-up's failures that the next one retries (a worker process that died breaks its pool).
VIEWS_TRANSIENT: tuple[type[Exception], ...] = (*TRANSIENT, BrokenProcessPool)


#: A batch run (--idle-exit) gives up when no broker answers for this long (or its idle window, if
#: longer) before it has connected; a service (no --idle-exit) waits for the broker as long as it takes.
CONNECT_WAIT_S = 30.0


class KafkaUnavailableError(JourneyError):
    """The Kafka cluster cannot be reached (or refused the messages)."""


class StopRequestedError(Exception):
    """A stop signal arrived while a transient failure was being retried: the batch is abandoned."""


@dataclass
class ConsumeStats:
    """What one consumer run did (messages = records polled, good or bad)."""

    messages: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    partitions: set[int] = field(default_factory=set)
    exit_reason: str = ""
    started_at: float = field(default_factory=time.time)
    first_message_at: float | None = None
    last_write_at: float | None = None
    views_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The stats as output shows them: instants in RFC 3339, UTC."""
        instants = {
            k: _rfc3339(getattr(self, k)) for k in ("started_at", "first_message_at", "last_write_at")
        }
        return {**asdict(self), **instants, "partitions": sorted(self.partitions)}


def _rfc3339(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def tracking_name(group: str, topic: str, partition: int) -> str:
    """The upstream name of a partition's position in the event store's tracking table (DESIGN.md)."""
    return f"kafka:{group}:{topic}:{partition}"


def any_listening(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True if some bootstrap server accepts a TCP connection."""
    for server in filter(None, (s.strip() for s in bootstrap.split(","))):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection(
                (host.strip("[]") or "localhost", int(port or 9092)), timeout=timeout_s
            ):
                return True
        except (OSError, ValueError):
            continue
    return False


@dataclass
class PartitionBatch:
    """The polled records of one partition, split into good touchpoints and rejected records."""

    partition: Any  # kafka TopicPartition
    records: list[Any]
    good: list[AnyTouchpoint] = field(default_factory=list)
    bad: list[tuple[Any, InvalidTouchpointError]] = field(default_factory=list)

    @classmethod
    def validate(cls, partition: Any, records: list[Any]) -> PartitionBatch:
        batch = cls(partition, records)
        for record in records:
            try:
                batch.good.append(touchpoint_of(record))
            except InvalidTouchpointError as exc:
                batch.bad.append((record, exc))
            except Exception as exc:  # a poison message must not stop the stream: dead-letter it too
                reason = f"unreadable message ({type(exc).__name__})"
                batch.bad.append((record, InvalidTouchpointError("touchpoint", reason)))
        return batch

    @property
    def next_offset(self) -> int:
        return int(self.records[-1].offset) + 1

    def tracked(self, group: str, topic: str) -> TrackedBatch:
        """The good touchpoints with the partition's next offset as their tracked position."""
        name = tracking_name(group, topic, self.partition.partition)
        return TrackedBatch(Tracking(name, self.next_offset), self.good)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Runs on kafka-python's IO thread, so it only pauses new partitions and notes them; the main
    loop seeks them to their stored positions (a database read) and resumes them."""

    def __init__(self, owner: TouchpointConsumer) -> None:
        self._owner = owner

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._owner.partitions_assigned(set(assigned))

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._owner.partitions_revoked(set(revoked))


class _Progress:
    """Throughput and lag every PROGRESS_EVERY_S seconds."""

    def __init__(self) -> None:
        self._since = time.monotonic()
        self._messages = 0

    def add(self, messages: int) -> None:
        self._messages += messages

    def report(self, consumer: Any, positions: Mapping[int, int], stats: ConsumeStats) -> None:
        elapsed = time.monotonic() - self._since
        if elapsed < PROGRESS_EVERY_S:
            return
        lag: int | None = None
        assigned = list(consumer.assignment())
        try:
            ends = consumer.end_offsets(assigned, timeout_ms=2000) if assigned else {}
            lag = sum(max(0, end - positions.get(tp.partition, 0)) for tp, end in ends.items())
        except KafkaError as exc:
            log.warning("lag_unavailable", error=f"{type(exc).__name__}: {exc}")
        log.info(
            "consume_progress",
            msgs_per_s=round(self._messages / elapsed, 1),
            lag=lag,
            partitions=sorted(tp.partition for tp in assigned),
            messages=stats.messages,
            applied=stats.applied,
            rejected=stats.rejected,
        )
        self._since, self._messages = time.monotonic(), 0


class TouchpointConsumer:
    """Consumes `settings.kafka_topic` in group `settings.kafka_group` into the engine's store and views.

    Stops after `max_messages` records, after `idle_exit` seconds with nothing to read (not counting
    time without partitions), or on SIGTERM/SIGINT once the batch in hand is recorded.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        max_messages: int | None = None,
        idle_exit: float | None = None,
        batch_size: int = BATCH_SIZE,
        views_max_delay: float = VIEWS_MAX_DELAY_S,
        handle_signals: bool = True,
        kafka_overrides: Mapping[str, Any] | None = None,
        connect_wait: float = CONNECT_WAIT_S,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.topic = settings.kafka_topic
        self.group = settings.kafka_group
        self.max_messages = max_messages
        self.idle_exit = idle_exit
        self._connect_give_up = None if idle_exit is None else max(idle_exit, connect_wait)
        self.batch_size = batch_size
        self.views_max_delay = views_max_delay
        self.handle_signals = handle_signals
        self.kafka_overrides = dict(kafka_overrides or {})
        self.stats = ConsumeStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._unsought: set[Any] = set()
        self._positions: dict[int, int] = {}
        self._idle_since: float | None = None
        self._views_pending = True
        self._views_at = time.monotonic()
        self._progress = _Progress()
        self._consumer: Any = None
        self._signal = "stop()"

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Ask the loop to finish the batch in hand and return (thread-safe, also the signal handler)."""
        self._stop.set()

    def run(self) -> ConsumeStats:
        with self._signals(), structlog.contextvars.bound_contextvars(topic=self.topic, group=self.group):
            log.info("consume_starting", bootstrap=self.settings.kafka_bootstrap)
            consumer: Any = None
            dead_letters: DeadLetters | None = None
            try:
                consumer = self._retry("kafka_connect", self._connect, self._connect_give_up)
                dead_letters = self._retry(
                    "kafka_connect", partial(DeadLetters.open, self.settings), self._connect_give_up
                )
                self._loop(consumer, dead_letters)
            except StopRequestedError:
                self.stats.exit_reason = "signal"
            finally:
                self._close(consumer, dead_letters)
            log.info("consume_finished", **self.stats.as_dict())
            return self.stats

    def _connect(self) -> Any:
        # kafka-python's constructor bootstraps, and a failed one leaves its IO thread behind: wait for
        # a listening broker first, so that a long outage at start-up does not pile threads up
        if not any_listening(self.settings.kafka_bootstrap):
            raise KafkaConnectionError(
                f"no bootstrap server accepts connections: {self.settings.kafka_bootstrap}"
            )
        config = consumer_config(self.settings, max_poll_records=self.batch_size, **self.kafka_overrides)
        consumer = KafkaConsumer(**config)
        self._consumer = consumer
        consumer.subscribe([self.topic], listener=_Rebalance(self))
        return consumer

    def _loop(self, consumer: Any, dead_letters: DeadLetters) -> None:
        while not (reason := self._exit_reason(consumer)):
            try:
                polled = self._poll(consumer)
                self._seek_assigned(consumer)
                if polled:
                    self._handle(consumer, dead_letters, polled)
                self._maybe_catch_up(at_head=self._caught_up(consumer))
                self._progress.report(consumer, self._positions, self.stats)
            except StopRequestedError:
                dead_letters.discard()
                reason = "signal"
                break
        self.stats.exit_reason = reason
        if reason == "signal":
            log.info("consume_stopping", signal=self._signal)
        else:
            self._final_catch_up()

    def _close(self, consumer: Any, dead_letters: DeadLetters | None) -> None:
        closers: list[Callable[[], None]] = []
        if consumer is not None:
            self._commit(consumer, {}, sync=True)
            closers.append(partial(consumer.close, autocommit=False, timeout_ms=5000))
        if dead_letters is not None:
            closers.append(dead_letters.close)
        for close in closers:
            try:
                close()
            except Exception as exc:  # closing must not hide the run's outcome
                log.warning("kafka_close_failed", error=f"{type(exc).__name__}: {exc}")

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if not self.handle_signals:
            yield
            return
        with stop_on_signals(self._stop_on_signal):
            yield

    def _stop_on_signal(self, name: str) -> None:
        self._signal = name
        self.stop()

    def _exit_reason(self, consumer: Any) -> str:
        if self._stop.is_set():
            return "signal"
        if self.max_messages is not None and self.stats.messages >= self.max_messages:
            return "max_messages"
        if self.idle_exit is not None and self._idle_since is not None:
            if not consumer.assignment():
                self._idle_since = None  # waiting for partitions is not idleness
            elif time.monotonic() - self._idle_since >= self.idle_exit:
                return "idle"
        return ""

    # ------------------------------------------------------------------ assignment

    def partitions_assigned(self, assigned: set[Any]) -> None:
        """(IO thread) Hold new partitions until the main loop has sought them to their stored positions."""
        with self._lock:
            self._unsought |= assigned
        self._consumer_pause(assigned)
        log.info("partitions_assigned", topic=self.topic, partitions=sorted(tp.partition for tp in assigned))

    def partitions_revoked(self, revoked: set[Any]) -> None:
        """(IO thread) Forget partitions given up before they were sought."""
        with self._lock:
            self._unsought -= revoked
        log.info("partitions_revoked", topic=self.topic, partitions=sorted(tp.partition for tp in revoked))

    def _consumer_pause(self, partitions: set[Any]) -> None:
        if self._consumer is not None and partitions:
            self._consumer.pause(*partitions)

    def _seek_assigned(self, consumer: Any) -> None:
        with self._lock:
            todo, self._unsought = self._unsought, set()
        todo &= set(consumer.assignment())
        done = set()
        for tp in sorted(todo, key=lambda t: t.partition):
            try:
                self._seek(consumer, tp)
                done.add(tp)
            except ValueError:  # revoked in the meantime (kafka-python: "Unassigned partition")
                continue
            except TRANSIENT as exc:  # the store is away: keep it paused, seek again after the next poll
                log.warning("seek_failed", partition=tp.partition, error=f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self._unsought.add(tp)
        with contextlib.suppress(KafkaError, ValueError):
            consumer.resume(*done)

    def _seek(self, consumer: Any, tp: Any) -> None:
        position = self.engine.app.position(tracking_name(self.group, self.topic, tp.partition))
        if position is None:
            consumer.seek_to_beginning(tp)  # the store's tracking is the truth: nothing recorded yet
            self._positions[tp.partition] = 0
        else:
            consumer.seek(tp, position)
            self._positions[tp.partition] = position
        log.info("partition_sought", partition=tp.partition, offset=position)

    def _caught_up(self, consumer: Any) -> bool:
        """True when every assigned partition's stored position reached its last known high-water mark
        (vacuously while waiting for partitions: a good moment to bring the views up to date)."""
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None or self._positions.get(tp.partition, 0) < highwater:
                return False
        return True

    # ------------------------------------------------------------------ batches

    def _poll(self, consumer: Any) -> dict[Any, list[Any]]:
        limit = self.batch_size
        if self.max_messages is not None:
            limit = max(1, min(limit, self.max_messages - self.stats.messages))
        try:
            polled: dict[Any, list[Any]] = consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=limit)
        except KafkaError as exc:
            log.warning("poll_failed", error=f"{type(exc).__name__}: {exc}")
            self._idle_since = None  # a failing broker is not an idle one
            self._pause(BACKOFF_FIRST_S)
            return {}
        fresh = {}
        for tp, records in polled.items():
            # drop records below the stored position (fetched before a seek): already recorded
            start = self._positions.get(tp.partition, 0)
            kept = [r for r in records if r.offset >= start]
            if kept:
                fresh[tp] = kept
        count = sum(len(r) for r in fresh.values())
        if count:
            self._idle_since = None
            self.stats.messages += count
            self.stats.first_message_at = self.stats.first_message_at or time.time()
            self._progress.add(count)
        elif not self._read_to_end(consumer):
            self._idle_since = None  # messages wait (a partition to seek, a broker away): not idle
        elif self._idle_since is None:
            self._idle_since = time.monotonic()
        return fresh

    def _read_to_end(self, consumer: Any) -> bool:
        """Every assigned partition sought and read up to its end: the last high-water mark its
        fetches reported, else the end offset the broker gives now (False if it cannot be asked)."""
        with self._lock:
            if self._unsought:
                return False
        assigned = list(consumer.assignment())
        try:
            ends = {tp: consumer.highwater(tp) for tp in assigned}
            unknown = [tp for tp, end in ends.items() if end is None]
            if unknown:
                ends.update(consumer.end_offsets(unknown, timeout_ms=2000))
            return bool(assigned) and all(
                consumer.position(tp, timeout_ms=2000) >= ends[tp] for tp in assigned
            )
        except (KafkaError, ValueError, TypeError) as exc:  # broker away, partition revoked meanwhile
            log.info("end_unknown", error=f"{type(exc).__name__}: {exc}")
            return False

    @fewer_collections()  # a batch's objects live until it is recorded
    def _handle(self, consumer: Any, dead_letters: DeadLetters, polled: Mapping[Any, list[Any]]) -> None:
        batches = [PartitionBatch.validate(tp, records) for tp, records in polled.items()]
        rejected = sum(len(b.bad) for b in batches)
        if rejected:
            self._retry("dead_letter", lambda: self._dead_letter(dead_letters, batches))
            self.stats.rejected += rejected
        self._retry("ingest", partial(self._record, batches))
        self.stats.batches += 1
        self.stats.last_write_at = time.time()
        self._commit(consumer, {b.partition: b.next_offset for b in batches})

    def _dead_letter(self, dead_letters: DeadLetters, batches: list[PartitionBatch]) -> None:
        for batch in batches:
            for record, error in batch.bad:
                dead_letters.send(record, error)
        dead_letters.flush()

    def _record(self, batches: list[PartitionBatch]) -> None:
        """Every partition's good touchpoints in one transaction, with one position per partition."""
        outcome = self.engine.app.ingest_tracked([b.tracked(self.group, self.topic) for b in batches])
        for batch in batches:
            self._positions[batch.partition.partition] = batch.next_offset
            self.stats.partitions.add(batch.partition.partition)
        self.stats.applied += outcome.applied
        self.stats.duplicates += outcome.duplicates
        if outcome.applied:
            self._views_pending = True
        log.debug(
            "poll_recorded",
            positions={b.partition.partition: b.next_offset for b in batches},
            applied=outcome.applied,
        )

    def _commit(self, consumer: Any, offsets: Mapping[Any, int], *, sync: bool = False) -> None:
        """Tell Kafka the positions too (for lag monitoring); the store's tracking stays the truth."""
        try:
            if sync:
                owned = {tp for tp in consumer.assignment() if tp.partition in self._positions}
                marks = {tp: OffsetAndMetadata(self._positions[tp.partition], "", -1) for tp in owned}
                if marks:
                    consumer.commit(marks, timeout_ms=5000)
            else:
                consumer.commit_async({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
        except KafkaError as exc:
            log.info("kafka_commit_skipped", error=f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ views

    def _maybe_catch_up(self, *, at_head: bool) -> None:
        overdue = time.monotonic() - self._views_at >= self.views_max_delay
        if self._views_pending and (at_head or overdue):
            self._catch_up()

    def _catch_up(self) -> bool:
        started = time.monotonic()
        try:
            projected = self.engine.views.catch_up()
        except VIEWS_TRANSIENT as exc:  # the projection is tracked: the next catch-up redoes the range
            log.warning("views_catch_up_failed", error=f"{type(exc).__name__}: {exc}")
            return False
        self._views_pending = False
        self._views_at = time.monotonic()
        self.stats.views_seconds += self._views_at - started
        self._idle_since = None
        if projected:
            self.stats.last_write_at = time.time()
            log.info("views_projected", notifications=projected, seconds=round(self._views_at - started, 2))
        return True

    def _final_catch_up(self) -> None:
        self._views_pending = True
        for attempt in range(5):
            if self._catch_up() or self._stop.is_set():
                return
            self._pause(BACKOFF_FIRST_S * 2**attempt)

    # ------------------------------------------------------------------ retries

    def _pause(self, seconds: float) -> bool:
        """Sleep unless a stop is requested; True if one was."""
        return self._stop.wait(seconds)

    def _retry(self, step: str, action: Callable[[], T], give_up_after: float | None = None) -> T:
        """Run action until it succeeds, backing off on transient failures; StopRequestedError on a
        stop; KafkaUnavailableError once it has failed for ``give_up_after`` seconds."""
        delay = BACKOFF_FIRST_S
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                return action()
            except TRANSIENT as exc:
                waited = time.monotonic() - started
                if give_up_after is not None and waited >= give_up_after:
                    raise KafkaUnavailableError(
                        f"kafka_bootstrap: {self.settings.kafka_bootstrap}: no broker answered for "
                        f"{waited:.0f} s ({type(exc).__name__}); a batch run (--idle-exit) gives up"
                    ) from None
                attempt += 1
                log.warning(
                    "retrying",
                    step=step,
                    attempt=attempt,
                    retry_in_s=delay,
                    error=f"{type(exc).__name__}: {exc}",
                )
                if self._pause(delay):
                    raise StopRequestedError(step) from exc
                delay = min(delay * 2, BACKOFF_MAX_S)
