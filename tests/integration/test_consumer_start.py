"""A batch run of the consumer (--idle-exit) against a broker that never answers ends with a clear
error instead of waiting for ever; nothing is read, so nothing is lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from consumers.touchpoint_consumer import KafkaUnavailableError, TouchpointConsumer
from journey.engine import Engine
from journey.settings import Settings


def test_a_batch_run_gives_up_on_a_broker_that_never_answers(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/j.db", kafka_bootstrap="127.0.0.1:1")
    engine = Engine.open(settings)
    consumer = TouchpointConsumer(engine, settings, idle_exit=0.5, connect_wait=1.5, handle_signals=False)
    started = time.monotonic()

    with pytest.raises(KafkaUnavailableError, match=r"kafka_bootstrap: 127\.0\.0\.1:1: no broker answered"):
        consumer.run()

    assert 1.5 <= time.monotonic() - started < 10
    assert engine.app.recorder.max_notification_id() in (None, 0)
    engine.close()
