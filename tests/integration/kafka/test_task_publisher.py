"""Tasks to the CRM on the real broker: each task event published once, also across restarts."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from consumers.task_publisher import EVENT_ID_HEADER, TaskPublisher
from journey.engine import Engine
from journey.settings import Settings
from tests.integration.kafka.flows import data_file, unique
from tests.kafka_broker import KafkaBroker

pytestmark = pytest.mark.kafka


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, dict[str, object], str]]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=4000
    )
    out = [(r.key, json.loads(r.value), dict(r.headers)[EVENT_ID_HEADER].decode()) for r in consumer]
    consumer.close()
    return out


def test_task_events_are_published_once_even_after_a_restart(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    path, _ = data_file(tmp_path, customers=40)
    topic = unique("journey.tasks")
    kafka_broker.create_topic(topic, partitions=3)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/t.db",
        kafka_bootstrap=kafka_broker.bootstrap,
        tasks_topic=topic,
        pii_key="test-key",
    )
    engine = Engine.open(settings)
    engine.ingest_file(path)
    early, late = datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)

    first = TaskPublisher(engine, settings, clock=lambda: early)
    sent_early = first.publish_once()
    assert first.publish_once() == 0
    first.close()
    restarted = TaskPublisher(engine, settings, clock=lambda: early)
    assert restarted.publish_once() == 0
    restarted.close()
    later = TaskPublisher(engine, settings, clock=lambda: late)
    sent_late = later.publish_once()
    later.close()

    messages = read_topic(kafka_broker.bootstrap, topic)
    ids = [event_id for _, _, event_id in messages]
    assert sent_early > 0 and sent_late > 0
    assert len(ids) == len(set(ids)) == sent_early + sent_late
    assert set(ids) == {e.event_id for e in engine.task_events(late)}
    assert Counter(body["event"] for _, body, _ in messages).keys() == {"created", "overdue", "done"}
    assert all(key == str(body["task"]["customer_id"]).encode() for key, body, _ in messages)  # type: ignore[index]
    engine.close()
