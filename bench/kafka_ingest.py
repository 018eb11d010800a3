"""Kafka ingest benchmark: the raw kafka-python consume rate against the end-to-end rate of
`journey consume` into PostgreSQL (views included), and whether two consumers beat one.

    .venv/bin/python bench/kafka_ingest.py [--bootstrap HOST:PORT] [--customers 2000 | --synthetic N]
                                           [--partitions 6] [--postgres URL]

Without --bootstrap a broker is started from deploy/kafka (tests/kafka_broker.py) and stopped after.
Measured on one topic holding the data set, each run in its own consumer group and database:

- raw: a KafkaConsumer loop that only polls and json-decodes each value;
- e2e, 1 in-process: TouchpointConsumer until every message is recorded and the views caught up;
- e2e, 1 and 2 processes: `journey consume --idle-exit` subprocesses in one group, from the first
  message polled to the last write (events or views) of any of them;
- freshness: with a consumer at the head of the topic, single touchpoints published one at a
  time, each timed from its send to the moment the views cover it (the tracked projection's
  position reaches its notification).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.*

from kafka import KafkaConsumer, KafkaProducer

from consumers.kafka_config import consumer_config, producer_config
from consumers.producer import produce_file
from consumers.touchpoint_consumer import TouchpointConsumer
from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings

JOURNEY = Path(sys.executable).parent / "journey"
IDLE_EXIT_S = 3


def synthetic(n: int) -> list[dict[str, Any]]:
    """n store visits of n // 5 customers, a minute apart."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "event_id": f"syn-{i:08d}",
            "type": "store_visit",
            "customer_id": f"C-{i % max(1, n // 5):07d}",
            "dealer_id": f"D-{i % 3:02d}",
            "occurred_at": (start + timedelta(minutes=i)).isoformat(),
            "source": "bench",
            "schema_version": 1,
            "data": {"purpose": "browse", "signals": ["revisit"] if i % 4 else []},
        }
        for i in range(n)
    ]


@contextmanager
def broker(bootstrap: str | None) -> Iterator[tuple[str, Any]]:
    if bootstrap:
        yield bootstrap, None
        return
    from tests.kafka_broker import KafkaBroker

    with KafkaBroker() as started:
        yield started.bootstrap, started


def create_topic(bootstrap: str, started: Any, topic: str, partitions: int) -> None:
    if started is not None:
        started.create_topic(topic, partitions=partitions)
        return
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics(
        {topic: {"num_partitions": partitions, "replication_factor": 1}}, wait_for_metadata=True
    )
    admin.close()


def raw_rate(settings: Settings, count: int) -> float:
    """Messages/s of a loop that only polls and decodes JSON."""
    consumer = KafkaConsumer(
        settings.kafka_topic, **consumer_config(settings, group_id=f"raw-{uuid.uuid4().hex}")
    )
    seen = 0
    started: float | None = None
    while seen < count:
        for records in consumer.poll(timeout_ms=1000, max_records=500).values():
            started = started or time.perf_counter()
            for record in records:
                json.loads(record.value)
            seen += len(records)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return seen / elapsed


def in_process_rate(settings: Settings, count: int) -> tuple[float, float]:
    """(messages/s end to end, share of the time spent on views) for one in-process consumer."""
    engine = Engine.open(settings)
    stats = TouchpointConsumer(engine, settings, max_messages=count, handle_signals=False).run()
    engine.close()
    assert stats.applied == count and stats.first_message_at and stats.last_write_at, stats
    elapsed = stats.last_write_at - stats.first_message_at
    return count / elapsed, stats.views_seconds / elapsed


def freshness(settings: Settings, data: list[dict[str, Any]], samples: int = 40) -> list[float]:
    """Seconds from sending a touchpoint to the views covering it, for `samples` touchpoints sent one
    at a time (each a callback to a known customer) to a consumer already at the head of the topic."""
    engine = Engine.open(settings)
    consumer = TouchpointConsumer(engine, settings, handle_signals=False)
    runner = threading.Thread(target=consumer.run, daemon=True)
    runner.start()
    watcher = Engine.open(settings)  # its own connections: the consumer's are its thread's
    producer = KafkaProducer(**producer_config(settings))
    customers = sorted({tp["customer_id"] for tp in data if tp.get("customer_id")})
    now = datetime.now(UTC)
    try:
        _wait(lambda: watcher.views.lag() == 0, timeout=600)
        out = []
        for i in range(-1, samples):  # the first one (not counted) waits for the group to assign partitions
            before = watcher.app.recorder.max_notification_id() or 0
            customer = customers[(i + 1) * 37 % len(customers)]
            tp = {
                "event_id": f"fresh-{uuid.uuid4().hex[:12]}",
                "type": "callback",
                "customer_id": customer,
                "dealer_id": next(t["dealer_id"] for t in data if t.get("customer_id") == customer),
                "occurred_at": (now + timedelta(seconds=i + 1)).isoformat(),
                "source": "bench",
                "schema_version": 1,
                "data": {"reason": "care", "channel": "phone", "reached": True},
            }
            sent = time.perf_counter()
            producer.send(settings.kafka_topic, key=customer.encode(), value=json.dumps(tp).encode())
            producer.flush()
            _wait(lambda before=before: watcher.views.position() > before, timeout=60)
            out.append(time.perf_counter() - sent)
            time.sleep(0.2)
        return out[1:]
    finally:
        consumer.stop()
        runner.join(timeout=60)
        producer.close()
        watcher.close()
        engine.close()


def _wait(condition: Any, timeout: float, every: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the views did not catch up in time")
        time.sleep(every)


def final_stats(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The stats line `journey consume` prints last (its log's tail if it printed none)."""
    out, err = proc.communicate(timeout=1800)
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"journey consume exited {proc.returncode}:\n{err.decode()[-3000:]}")
    return dict(json.loads(lines[-1]))


def processes_rate(settings: Settings, count: int, processes: int) -> tuple[float, list[int]]:
    """(messages/s end to end, messages applied by each) for `processes` `journey consume` subprocesses."""
    Engine.open(settings).close()  # create the tables before the processes race to
    env = {**os.environ, "JOURNEY_DATABASE_URL": settings.database_url}
    command = [str(JOURNEY), "consume", "--bootstrap-servers", settings.kafka_bootstrap, "--topic"]
    command += [settings.kafka_topic, "--group", settings.kafka_group, "--idle-exit", str(IDLE_EXIT_S)]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    stats = [final_stats(p) for p in procs]
    assert sum(s["applied"] for s in stats) == count, stats
    first = min(datetime.fromisoformat(s["first_message_at"]) for s in stats if s["first_message_at"])
    last = max(datetime.fromisoformat(s["last_write_at"]) for s in stats if s["last_write_at"])
    return count / (last - first).total_seconds(), [s["applied"] for s in stats]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", help="an existing broker (default: start one from deploy/kafka)")
    parser.add_argument("--customers", type=int, default=2000, help="demo data set size (default 2000)")
    parser.add_argument("--synthetic", type=int, help="N synthetic touchpoints instead of the demo data set")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: deploy/postgres on 5433)")
    args = parser.parse_args()
    from journey.logging import configure_logging
    from tests.pg_server import drop_database, ensure_postgres, fresh_database

    configure_logging(logging.WARNING)
    data = synthetic(args.synthetic) if args.synthetic else generate(customers=args.customers)
    server = args.postgres or ensure_postgres()
    with tempfile.TemporaryDirectory() as tmp, broker(args.bootstrap) as (bootstrap, started):
        source = Path(tmp) / "touchpoints.jsonl"
        write_jsonl(data, source)
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        create_topic(bootstrap, started, topic, args.partitions)
        databases: list[str] = []

        def settings(run: str) -> Settings:
            databases.append(f"bench_kafka_{run}")
            url = fresh_database(server, databases[-1])
            return Settings(
                database_url=url, kafka_bootstrap=bootstrap, kafka_topic=topic, kafka_group=f"{topic}-{run}"
            )

        t0 = time.perf_counter()
        count = produce_file(source, Settings(kafka_bootstrap=bootstrap, kafka_topic=topic))
        produced = count / (time.perf_counter() - t0)
        try:
            raw = raw_rate(settings("raw"), count)
            inproc = settings("inproc")
            e2e, views_share = in_process_rate(inproc, count)
            one, _ = processes_rate(settings("one"), count, 1)
            two, shares = processes_rate(settings("two"), count, 2)
            fresh = freshness(inproc, data)  # last: it adds touchpoints to the topic
        finally:
            for name in databases:
                drop_database(server, name)
    what = f"synthetic {count}" if args.synthetic else f"demo data set ({args.customers} customers): {count}"
    print(f"{what} touchpoints, {args.partitions} partitions, PostgreSQL store")
    print(f"{'produce (journey produce)':<44} {produced:>10,.0f} msg/s")
    print(f"{'raw kafka-python poll + json decode':<44} {raw:>10,.0f} msg/s")
    print(f"{'end to end, 1 consumer in-process':<44} {e2e:>10,.0f} msg/s   ratio to raw {e2e / raw:.3f}")
    print(f"{'':<44} {'':>10}         views {views_share:.0%} of its time")
    ingest_only = e2e / (1 - views_share)
    print(
        f"{'  of which ingest (views excluded)':<44} {ingest_only:>10,.0f} msg/s   ratio to raw {ingest_only / raw:.3f}"
    )
    q = statistics.quantiles(fresh, n=100)
    print(
        f"{'freshness at the head (send -> in the views)':<44} p50 {q[49] * 1000:5.0f} ms, "
        f"p99 {q[98] * 1000:5.0f} ms ({len(fresh)} touchpoints sent one at a time)"
    )
    print(f"{'end to end, 1 `journey consume` process':<44} {one:>10,.0f} msg/s")
    print(
        f"{'end to end, 2 `journey consume` processes':<44} {two:>10,.0f} msg/s   {two / one:.2f}x one process"
    )
    print(f"{'':<44} {'':>10}         applied per process: {shares}")


if __name__ == "__main__":
    main()
