"""The consumer rides out a broker that stops and comes back mid-stream: it reconnects by itself, no
exception escapes its loop, and it finishes with every touchpoint applied once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from consumers.producer import produce_file
from consumers.touchpoint_consumer import TouchpointConsumer, tracking_name
from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings
from tests.integration.kafka.flows import kafka_settings, recorded_event_ids
from tests.kafka_broker import KafkaBroker

pytestmark = pytest.mark.kafka

PARTITIONS = 3


def test_the_consumer_reconnects_after_a_broker_restart_and_loses_nothing(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    data = generate(customers=200, seed=4)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_jsonl(data[: len(data) // 2], first)
    write_jsonl(data[len(data) // 2 :], second)
    settings = kafka_settings(kafka_broker, f"sqlite:///{tmp_path}/restart.db", "restart", PARTITIONS)
    produce_file(first, settings)
    engine = Engine.open(settings)
    consumer = TouchpointConsumer(
        engine, settings, max_messages=len(data), idle_exit=120, handle_signals=False
    )
    failures: list[BaseException] = []

    def run() -> None:
        try:
            consumer.run()
        except BaseException as exc:  # would mean an exception escaped the loop
            failures.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 60
    while consumer.stats.messages == 0 and time.monotonic() < deadline:
        time.sleep(0.05)

    try:
        kafka_broker.stop()
        time.sleep(3)
    finally:
        kafka_broker.start()
    produce_file(second, settings)
    runner.join(timeout=240)

    assert not runner.is_alive() and not failures
    assert consumer.stats.exit_reason == "max_messages"
    assert consumer.stats.messages == len(data)
    ids = recorded_event_ids(engine)
    assert len(ids) == len(data) and set(ids) == {tp["event_id"] for tp in data}
    probe = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    topic, group = settings.kafka_topic, settings.kafka_group
    ends = probe.end_offsets([TopicPartition(topic, p) for p in range(PARTITIONS)])
    probe.close()
    assert {tp.partition: engine.app.position(tracking_name(group, topic, tp.partition)) for tp in ends} == {
        tp.partition: end for tp, end in ends.items()
    }
    assert engine.views.lag() == 0
    engine.close()


def on_a_topic(broker: KafkaBroker, tmp_path: Path, name: str, data: list[dict[str, Any]]) -> Settings:
    """Settings of a new topic holding the data set (and an SQLite store of its own)."""
    source = tmp_path / f"{name}.jsonl"
    write_jsonl(data, source)
    settings = kafka_settings(broker, f"sqlite:///{tmp_path}/{name}.db", name, PARTITIONS)
    produce_file(source, settings)
    return settings


def test_a_broker_outage_longer_than_idle_exit_is_not_idleness_while_messages_wait(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    data = generate(customers=600, seed=6)
    settings = on_a_topic(kafka_broker, tmp_path, "outage", data)
    engine = Engine.open(settings)
    consumer = TouchpointConsumer(  # small fetches and batches: it is still reading when the broker goes
        engine,
        settings,
        idle_exit=2,
        batch_size=100,
        handle_signals=False,
        kafka_overrides={"max_partition_fetch_bytes": 16_384, "fetch_max_bytes": 32_768},
    )
    runner = threading.Thread(target=consumer.run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 60
    while consumer.stats.messages < 300 and time.monotonic() < deadline:
        time.sleep(0.01)

    try:
        kafka_broker.stop()
        time.sleep(6)  # three times the idle exit
    finally:
        kafka_broker.start()
    runner.join(timeout=240)

    assert not runner.is_alive()
    assert consumer.stats.exit_reason == "idle"
    assert consumer.stats.messages == consumer.stats.applied == len(data)
    engine.close()


def test_idle_exit_0_reads_what_waits_then_stops(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    data = generate(customers=20, seed=8)
    settings = on_a_topic(kafka_broker, tmp_path, "zero", data)
    engine = Engine.open(settings)

    stats = TouchpointConsumer(engine, settings, idle_exit=0, handle_signals=False).run()

    assert (stats.exit_reason, stats.messages, stats.applied) == ("idle", len(data), len(data))
    engine.close()
