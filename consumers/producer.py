"""`journey produce FILE.jsonl`: publish a JSONL file to the touchpoints topic as an upstream system would.

Each non-blank line is sent as it is (its bytes), keyed by its customer_id so that one customer's
touchpoints stay in one partition in order (dealer-level types: by dealer_id). A line that is not a
JSON object, or names no key, is sent with an empty key, so that the consumer dead-letters it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
from kafka import KafkaProducer

from consumers.kafka_config import producer_config
from journey.ingest import jsonl_lines
from journey.settings import Settings
from journey.touchpoints import DEALER_TYPES

log = structlog.get_logger()

SEND_TIMEOUT_S = 120.0


def message_key(line: bytes) -> bytes:
    """The partitioning key upstream would use for this line (empty when it names none)."""
    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        return b""
    if not isinstance(obj, dict):
        return b""
    key = obj.get("dealer_id") if obj.get("type") in DEALER_TYPES else obj.get("customer_id")
    return key.encode() if isinstance(key, str) else b""


def file_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of a JSONL file, without their line ends."""
    with path.open("rb") as lines:
        for _, line in jsonl_lines(lines):
            yield line


def produce_file(path: Path, settings: Settings, producer: Any | None = None) -> int:
    """Publish every line of ``path`` to ``settings.kafka_topic``; return how many were acknowledged."""
    own = producer is None
    kafka = producer if producer is not None else KafkaProducer(**producer_config(settings))
    futures: list[Any] = []
    try:
        for line in file_lines(path):
            futures.append(kafka.send(settings.kafka_topic, key=message_key(line), value=line))
        kafka.flush(timeout=SEND_TIMEOUT_S)
        for future in futures:
            future.get(timeout=SEND_TIMEOUT_S)
    finally:
        if own:
            kafka.close(timeout=10)
    log.info("file_produced", source=path.name, topic=settings.kafka_topic, messages=len(futures))
    return len(futures)
