"""Two `journey consume` processes in one group share a 6-partition topic on one PostgreSQL store: each
consumes a share, every touchpoint is applied exactly once, and the views equal a file ingest's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from consumers.producer import produce_file
from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from tests.integration.kafka.flows import (
    ConsumeProcess,
    file_ingest_views,
    kafka_settings,
    recorded_event_ids,
    views_of,
)
from tests.kafka_broker import KafkaBroker

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

PARTITIONS = 6


def test_two_consumers_share_the_partitions_and_apply_each_touchpoint_once(
    kafka_broker: KafkaBroker, postgres_url: str, tmp_path: Path
) -> None:
    data = generate(customers=300, seed=12)
    path = tmp_path / "demo.jsonl"
    write_jsonl(data, path)
    settings = kafka_settings(kafka_broker, postgres_url, "scale", PARTITIONS)
    consumers = [ConsumeProcess(settings, "--idle-exit", "8"), ConsumeProcess(settings, "--idle-exit", "8")]
    deadline = time.monotonic() + 90
    while not (
        all(c.assigned for c in consumers) and set.union(*(c.assigned for c in consumers)) == set(range(6))
    ):
        assert time.monotonic() < deadline, [c.logs[-5:] for c in consumers]
        time.sleep(0.1)

    produce_file(path, settings)
    finished = [c.finish(timeout=300) for c in consumers]
    assert [code for code, _ in finished] == [0, 0], [c.logs[-10:] for c in consumers]
    stats = [s for _, s in finished]

    assert all(s["applied"] > 0 for s in stats)
    assert sum(s["applied"] for s in stats) == len(data)
    engine = Engine.open(settings)
    ids = recorded_event_ids(engine)
    assert len(ids) == len(data) and set(ids) == {tp["event_id"] for tp in data}
    consumed = views_of(engine, data)
    engine.close()
    assert consumed == file_ingest_views(path, data, tmp_path)
