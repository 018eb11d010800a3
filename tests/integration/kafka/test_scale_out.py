"""Two `journey consume` processes in one group share a 6-partition topic on one PostgreSQL store: each
consumes a share, every touchpoint is applied exactly once, and the views equal a file ingest's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.producer import produce_file
from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings
from tests.integration.kafka.flows import recorded_event_ids
from tests.kafka_broker import KafkaBroker

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

JOURNEY = Path(sys.executable).parent / "journey"
PII_KEY = "test-key"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
PARTITIONS = 6


class Consume:
    """A `journey consume` subprocess whose latest assignment is followed from its JSON logs."""

    def __init__(self, settings: Settings) -> None:
        command = [
            str(JOURNEY),
            "consume",
            "--bootstrap-servers",
            settings.kafka_bootstrap,
            "--idle-exit",
            "8",
        ]
        command += ["--topic", settings.kafka_topic, "--group", settings.kafka_group]
        command += ["--database-url", settings.database_url]
        env = {**os.environ, "JOURNEY_PII_KEY": PII_KEY}
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assigned: set[int] = set()
        self.tail: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.tail = [*self.tail[-20:], line.decode(errors="replace")]
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "partitions_assigned":
                self.assigned = set(entry["partitions"])
            elif entry.get("event") == "partitions_revoked":
                self.assigned -= set(entry["partitions"])

    def finish(self, timeout: float) -> dict[str, Any]:
        """Wait for the exit (stderr stays with the reader thread) and return the stats it printed."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        assert self.proc.returncode == 0, self.tail
        stats: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return stats


@pytest.fixture
def postgres_url() -> Iterator[str]:
    from tests.pg_server import drop_database, ensure_postgres, fresh_database

    server = ensure_postgres()
    name = f"t_kafka_{uuid.uuid4().hex[:10]}"
    yield fresh_database(server, name)
    drop_database(server, name)


def views_of(engine: Engine, data: list[dict[str, Any]]) -> dict[str, Any]:
    engine.views.catch_up()
    recorder = engine.views.recorder
    return {
        "customers": {
            c: engine.customer(c, AS_OF)
            for c in sorted({tp["customer_id"] for tp in data if tp.get("customer_id")})
        },
        "reports": {d: engine.report(d, AS_OF) for d in sorted({tp["dealer_id"] for tp in data})},
        "tables": {
            p.table.name: sorted(map(repr, recorder.select(f"SELECT * FROM {{{p.table.name}}}")))
            for p in engine.views.parts
        },
    }


def test_two_consumers_share_the_partitions_and_apply_each_touchpoint_once(
    kafka_broker: KafkaBroker, postgres_url: str, tmp_path: Path
) -> None:
    data = generate(customers=300, seed=12)
    path = tmp_path / "demo.jsonl"
    write_jsonl(data, path)
    topic = f"scale-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, partitions=PARTITIONS)
    settings = Settings(
        database_url=postgres_url,
        kafka_bootstrap=kafka_broker.bootstrap,
        kafka_topic=topic,
        kafka_group=f"g-{topic}",
        pii_key=PII_KEY,
    )
    consumers = [Consume(settings), Consume(settings)]
    deadline = time.monotonic() + 90
    while not (
        all(c.assigned for c in consumers) and set.union(*(c.assigned for c in consumers)) == set(range(6))
    ):
        assert time.monotonic() < deadline, [c.tail for c in consumers]
        time.sleep(0.1)

    produce_file(path, settings)
    stats = [c.finish(timeout=300) for c in consumers]

    assert all(s["applied"] > 0 for s in stats)
    assert sum(s["applied"] for s in stats) == len(data)
    engine = Engine.open(settings)
    ids = recorded_event_ids(engine)
    assert len(ids) == len(data) and set(ids) == {tp["event_id"] for tp in data}
    consumed = views_of(engine, data)
    engine.close()
    reference = Engine.open(Settings(database_url=f"sqlite:///{tmp_path}/reference.db", pii_key=PII_KEY))
    reference.ingest_file(path)
    assert consumed == views_of(reference, data)
    reference.close()
