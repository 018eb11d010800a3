"""The local Kafka broker works with kafka-python and keeps data across restarts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

if TYPE_CHECKING:
    from tests.kafka_broker import KafkaBroker

pytestmark = pytest.mark.kafka

N_MESSAGES = 100
N_PARTITIONS = 6
N_KEYS = 10


def unique_topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def produce(bootstrap: str, topic: str, n: int = N_MESSAGES) -> list[Any]:
    """Send n keyed messages (key = customer id), return their RecordMetadata."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = [
            producer.send(topic, key=f"customer-{i % N_KEYS}".encode(), value=f"event-{i}".encode())
            for i in range(n)
        ]
        producer.flush(timeout=30)
        return [f.get(timeout=30) for f in futures]
    finally:
        producer.close()


def consume_all(
    bootstrap: str, topic: str, expected: int, group_id: str | None = None, timeout_ms: int = 20_000
) -> list[Any]:
    """Read the topic from the beginning until `expected` records arrived (or timeout)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=timeout_ms,
    )
    records: list[Any] = []
    try:
        for record in consumer:
            records.append(record)
            if len(records) >= expected:
                break
        if group_id is not None:
            consumer.commit()
    finally:
        consumer.close()
    return records


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def assert_same_events(records: list[Any], topic: str) -> None:
    assert len(records) == N_MESSAGES
    assert {r.topic for r in records} == {topic}
    assert sorted(r.value for r in records) == sorted(f"event-{i}".encode() for i in range(N_MESSAGES))


def test_round_trip_keyed_messages(kafka_broker: KafkaBroker) -> None:
    topic = unique_topic("round-trip")
    kafka_broker.create_topic(topic, partitions=N_PARTITIONS)

    sent = produce(kafka_broker.bootstrap, topic)
    assert len(sent) == N_MESSAGES

    records = consume_all(kafka_broker.bootstrap, topic, N_MESSAGES, group_id=f"g-{topic}")
    assert_same_events(records, topic)

    # The topic really has 6 partitions, keys spread over several of them,
    # every key sticks to one partition and keeps its production order there.
    assert set(end_offsets(kafka_broker.bootstrap, topic, N_PARTITIONS)) == set(range(N_PARTITIONS))
    partitions_by_key = defaultdict(set)
    values_by_key = defaultdict(list)
    for r in records:
        partitions_by_key[r.key].add(r.partition)
        values_by_key[r.key].append(int(r.value.decode().split("-")[1]))
    assert len(partitions_by_key) == N_KEYS
    assert all(len(parts) == 1 for parts in partitions_by_key.values())
    assert len({p for parts in partitions_by_key.values() for p in parts}) > 1
    assert all(values == sorted(values) for values in values_by_key.values())


def test_messages_survive_stop_and_start(kafka_broker: KafkaBroker) -> None:
    topic = unique_topic("durable")
    kafka_broker.create_topic(topic, partitions=N_PARTITIONS)
    produce(kafka_broker.bootstrap, topic)
    offsets_before = end_offsets(kafka_broker.bootstrap, topic, N_PARTITIONS)

    kafka_broker.stop()
    assert not kafka_broker.is_running()
    kafka_broker.stop()  # idempotent
    kafka_broker.start()
    kafka_broker.start()  # idempotent: already running
    assert kafka_broker.is_running()

    assert end_offsets(kafka_broker.bootstrap, topic, N_PARTITIONS) == offsets_before
    assert_same_events(consume_all(kafka_broker.bootstrap, topic, N_MESSAGES), topic)


def test_messages_survive_a_crash(kafka_broker: KafkaBroker) -> None:
    topic = unique_topic("crash")
    kafka_broker.create_topic(topic, partitions=N_PARTITIONS)
    produce(kafka_broker.bootstrap, topic)  # acks=all: every record is in the log

    kafka_broker.kill()
    assert not kafka_broker.is_running()
    kafka_broker.start()

    assert_same_events(consume_all(kafka_broker.bootstrap, topic, N_MESSAGES), topic)
