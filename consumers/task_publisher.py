"""Tasks to the CRM: every task's creation, becoming overdue and completion, published once to
the `journey.tasks` topic (key customer_id, JSON value, header `journey.task_event_id`).

"Once" survives restarts without a separate ledger: on start the publisher reads the topic
back and skips every event id already there; it then publishes what is new, flushing before
it counts an event as sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.kafka_config import client_config
from journey.engine import Engine
from journey.settings import Settings

log = structlog.get_logger()

EVENT_ID_HEADER = "journey.task_event_id"


def published_event_ids(settings: Settings, topic: str) -> set[str]:
    """The task event ids already on the topic (read from its beginning to its end)."""
    consumer = KafkaConsumer(enable_auto_commit=False, **client_config(settings))
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return set()
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        seen: set[str] = set()
        while any(consumer.position(tp) < ends[tp] for tp in assigned):
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    header = dict(record.headers or []).get(EVENT_ID_HEADER)
                    if header is not None:
                        seen.add(header.decode())
        return seen
    finally:
        consumer.close()


class TaskPublisher:
    """Publishes task events from the task view, each event id once."""

    def __init__(
        self, engine: Engine, settings: Settings, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.topic = settings.tasks_topic
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sent: set[str] = published_event_ids(settings, self.topic)
        self.producer = KafkaProducer(**client_config(settings))

    def publish_once(self) -> int:
        """Publish every task event up to now that is not on the topic yet; returns how many."""
        self.engine.views.catch_up(adopt_rules=False)
        fresh = [e for e in self.engine.task_events(self.clock()) if e.event_id not in self.sent]
        for event in fresh:
            self.producer.send(
                self.topic,
                key=event.task.customer_id.encode(),
                value=json.dumps(event.as_dict()).encode(),
                headers=[(EVENT_ID_HEADER, event.event_id.encode())],
            )
        self.producer.flush()
        self.sent.update(e.event_id for e in fresh)
        if fresh:
            log.info("tasks_published", topic=self.topic, events=len(fresh))
        return len(fresh)

    def run(self, interval: float, rounds: int | None = None) -> int:
        """Publish every `interval` seconds (forever, or `rounds` times)."""
        total, done = 0, 0
        while rounds is None or done < rounds:
            total += self.publish_once()
            done += 1
            if rounds is None or done < rounds:
                time.sleep(interval)
        return total

    def close(self) -> None:
        self.producer.close()
