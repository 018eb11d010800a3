"""Dead letters: a message that breaks the contract goes to `<topic>.dlq` as it came (key, value bytes,
headers), with headers saying why and where it came from, so that it can be fixed and replayed. One
exception: personal data is never stored in clear (CONTRACT.md), so a message holding a name, phone
or national_id in clear goes with those values replaced by the keyed hashes the event store would
have kept (header `journey.redacted`); replayed, it stores the same hashes.

Delivery is at least once: a consumer that crashes after flushing the dead letters of a batch but
before recording the batch's position dead-letters them again on restart. The `journey.source_*`
headers identify a message uniquely, so a reader of the DLQ can drop the repeats.
"""

from __future__ import annotations

from typing import Any

import structlog
from kafka import KafkaProducer

from consumers.kafka_config import producer_config
from journey.errors import InvalidTouchpointError
from journey.privacy import redacted_line
from journey.settings import Settings

log = structlog.get_logger()

DLQ_SUFFIX = ".dlq"
ERROR = "journey.error"
ERROR_FIELD = "journey.error_field"
SOURCE_TOPIC = "journey.source_topic"
SOURCE_PARTITION = "journey.source_partition"
SOURCE_OFFSET = "journey.source_offset"
REDACTED = "journey.redacted"
FLUSH_TIMEOUT_S = 30.0


def dlq_topic(topic: str) -> str:
    """Where the dead letters of a topic go (CONTRACT.md section 3)."""
    return f"{topic}{DLQ_SUFFIX}"


def dead_letter_headers(record: Any, error: InvalidTouchpointError) -> list[tuple[str, bytes]]:
    """The original headers followed by the reason (naming the field) and the message's origin."""
    return [
        *(record.headers or []),
        (ERROR, str(error).encode()),
        (ERROR_FIELD, error.field.encode()),
        (SOURCE_TOPIC, record.topic.encode()),
        (SOURCE_PARTITION, str(record.partition).encode()),
        (SOURCE_OFFSET, str(record.offset).encode()),
    ]


class DeadLetters:
    """Publishes rejected messages of one topic to its DLQ; `flush` returns once every one is acknowledged."""

    def __init__(self, producer: Any, topic: str, pii_key: str) -> None:
        self._producer = producer
        self.topic = dlq_topic(topic)
        self._pii_key = pii_key
        self._pending: list[Any] = []

    @classmethod
    def open(cls, settings: Settings) -> DeadLetters:
        return cls(
            KafkaProducer(**producer_config(settings, client_id="journey-dead-letters")),
            settings.kafka_topic,
            settings.pii_key,
        )

    def send(self, record: Any, error: InvalidTouchpointError) -> None:
        """Queue one rejected consumer record (sent with its original key and value bytes)."""
        log.warning(
            "touchpoint_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            field=error.field,
            reason=str(error)[:200],
        )
        value, headers = record.value, dead_letter_headers(record, error)
        redacted = None if value is None else redacted_line(value, self._pii_key)
        if redacted is not None:
            value, headers = redacted.encode(), [*headers, (REDACTED, b"personal fields hashed")]
        future = self._producer.send(self.topic, key=record.key, value=value, headers=headers)
        self._pending.append(future)

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> int:
        """Wait until every queued dead letter is acknowledged; raise the first failure (KafkaError).

        A failed flush keeps nothing queued: the caller resends the batch, so none is lost.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        self._producer.flush(timeout=timeout_s)
        for future in pending:
            future.get(timeout=timeout_s)
        return len(pending)

    def discard(self) -> None:
        """Forget queued dead letters whose batch is abandoned (they are redelivered with it)."""
        self._pending = []

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.close(timeout=timeout_s)
