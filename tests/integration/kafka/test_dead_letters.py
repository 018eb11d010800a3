"""A message that breaks the contract goes to `<topic>.dlq` as it came (key, value bytes, headers) with
headers naming the reason, the field and its origin, personal values hashed; every good message among
them is applied."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer

from consumers.touchpoint_consumer import TouchpointConsumer
from journey.demo_data import generate
from journey.engine import Engine
from journey.privacy import pseudonym, redacted_line
from journey.touchpoints import DEALER_TYPES
from tests.integration.kafka.flows import kafka_settings, recorded_event_ids
from tests.kafka_broker import KafkaBroker

pytestmark = pytest.mark.kafka

BAD_PER_KIND = 200
KINDS = ("json", "type", "missing", "schema_version", "key")


def keyed(tp: dict[str, Any], n: int) -> bytes:
    """The key upstream uses: customer_id; dealer-level touchpoints by dealer_id or (every other one) none."""
    if tp["type"] in DEALER_TYPES:
        return tp["dealer_id"].encode() if n % 2 else b""
    return str(tp["customer_id"]).encode()


def malformed(kind: str, tp: dict[str, Any], n: int) -> tuple[bytes, bytes, str]:
    """(key, value, the field the reason must name) of a bad variant of a good customer touchpoint."""
    tp = {**tp, "event_id": f"bad-{kind}-{n}"}
    key = str(tp["customer_id"]).encode()
    if kind == "json":
        text = json.dumps(tp).encode()
        return key, (text[: len(text) // 2] if n % 2 else b"\xff\xfe" + text), "json"
    if kind == "type":
        return key, json.dumps({**tp, "type": "teleport"}).encode(), "type"
    if kind == "missing":
        missing = ("occurred_at", "dealer_id", "event_id")[n % 3]
        return key, json.dumps({k: v for k, v in tp.items() if k != missing}).encode(), missing
    if kind == "schema_version":
        return key, json.dumps({**tp, "schema_version": 2}).encode(), "schema_version"
    wrong = (b"", b"C-someone-else", tp["dealer_id"].encode())[n % 3]
    return wrong, json.dumps(tp).encode(), "key"


def dealer_level_with_customer_key(tp: dict[str, Any], n: int) -> tuple[bytes, bytes, str]:
    return b"C-000001", json.dumps({**tp, "event_id": f"bad-dealer-key-{n}"}).encode(), "key"


def registration_with_personal_data(n: int) -> tuple[bytes, bytes, str]:
    """A registration naming its customer, rejected for its usage."""
    data = {"usage": "fleet", "name": f"Zhang San {n}", "phone": f"+86 138 0000 {n:04d}"}
    tp = {"event_id": f"bad-personal-{n}", "type": "customer_registered", "customer_id": f"C-p{n}"}
    tp |= {"dealer_id": "D-SH-01", "occurred_at": "2026-05-01T10:00:00+08:00", "source": "crm"}
    tp |= {"schema_version": 1, "data": data}
    return f"C-p{n}".encode(), json.dumps(tp).encode(), "data.usage"


def test_malformed_messages_go_to_the_dlq_with_their_reason_and_the_good_ones_are_applied(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, f"sqlite:///{tmp_path}/dlq.db", "dlq", partitions=3)
    topic = settings.kafka_topic
    good = generate(customers=80, seed=11)
    customer_tps = [tp for tp in good if tp.get("customer_id")]
    dealer_tps = [tp for tp in good if not tp.get("customer_id")]
    rnd = random.Random(3)
    bad = [malformed(kind, rnd.choice(customer_tps), n) for kind in KINDS for n in range(BAD_PER_KIND - 1)]
    bad += [dealer_level_with_customer_key(rnd.choice(dealer_tps), n) for n in range(len(KINDS))]
    bad += [registration_with_personal_data(n) for n in range(3)]
    messages = [(keyed(tp, n), json.dumps(tp).encode(), "") for n, tp in enumerate(good)] + bad
    rnd.shuffle(messages)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    futures = [
        (producer.send(topic, key=key, value=value, headers=[("trace", f"t{i}".encode())]), key, value, field)
        for i, (key, value, field) in enumerate(messages)
    ]
    producer.flush()
    sent = {(f.get().partition, f.get().offset): (key, value, field) for f, key, value, field in futures}
    producer.close()
    engine = Engine.open(settings)

    stats = TouchpointConsumer(engine, settings, idle_exit=3).run()

    assert len(bad) == 1003
    assert (stats.messages, stats.applied, stats.rejected, stats.duplicates) == (
        len(messages),
        len(good),
        len(bad),
        0,
    )
    assert sorted(recorded_event_ids(engine)) == sorted(tp["event_id"] for tp in good)
    assert engine.views.lag() == 0
    dead = read_all(kafka_broker.bootstrap, f"{topic}.dlq", expected=len(bad))
    assert len(dead) == len(bad)
    seen = set()
    for record in dead:
        headers = record.headers
        assert headers[0][0] == "trace"  # the original headers first, as they were
        h = dict(headers)
        origin = (int(h["journey.source_partition"]), int(h["journey.source_offset"]))
        key, value, field = sent[origin]
        redacted = redacted_line(value, settings.pii_key)  # names and phones: never in clear
        assert (record.key or b"", record.value) == (key, value if redacted is None else redacted.encode())
        assert (redacted is not None) == ("journey.redacted" in h)
        assert b"Zhang San" not in record.value and b"+86 1" not in record.value
        assert h["journey.source_topic"].decode() == topic
        assert h["journey.error_field"].decode() == field
        assert h["journey.error"].decode().startswith(f"{field}:")
        seen.add(origin)
    assert seen == {origin for origin, (_, _, field) in sent.items() if field}
    personal = [json.loads(r.value) for r in dead if b"bad-personal" in (r.value or b"")]
    assert sorted(p["data"]["name"] for p in personal) == sorted(
        pseudonym(f"Zhang San {n}", settings.pii_key) for n in range(3)
    )
    engine.close()


def read_all(bootstrap: str, topic: str, expected: int) -> list[Any]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    records: list[Any] = []
    for record in consumer:
        records.append(record)
        if len(records) > expected:
            break
    consumer.close()
    return records
