"""The `journey consume` and `journey produce` commands (registered through the entry-point
group `journey.commands`, so that journey itself never imports Kafka)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import structlog
import typer
from eventsourcing.persistence import IntegrityError, InternalError, OperationalError
from kafka.errors import KafkaError

from consumers.producer import produce_file
from consumers.touchpoint_consumer import KafkaUnavailableError, TouchpointConsumer, any_listening
from journey.cli import settings_for
from journey.engine import Engine
from journey.errors import StoreUnavailableError
from journey.settings import Settings

log = structlog.get_logger()


OPEN_ATTEMPTS = 6

Bootstrap = Annotated[
    str | None, typer.Option("--bootstrap-servers", help="host:port[,host:port] [JOURNEY_KAFKA_BOOTSTRAP]")
]
Topic = Annotated[str | None, typer.Option("--topic", help="touchpoints topic [JOURNEY_KAFKA_TOPIC]")]


def open_engine(settings: Settings) -> Engine:
    """Engine.open, retried while the database is starting or another process creates the same tables:
    on a fresh PostgreSQL database, concurrent opens fail with "tuple concurrently updated", duplicate
    types or sequences, or a duplicate tracking-migration record."""
    for attempt in range(1, OPEN_ATTEMPTS + 1):
        try:
            return Engine.open(settings)
        except (IntegrityError, InternalError, OperationalError, StoreUnavailableError) as exc:
            if attempt == OPEN_ATTEMPTS:
                raise
            log.warning("engine_open_retry", attempt=attempt, error=f"{type(exc).__name__}: {exc}")
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def consume(
    bootstrap_servers: Bootstrap = None,
    topic: Topic = None,
    group: Annotated[str | None, typer.Option("--group", help="consumer group [JOURNEY_KAFKA_GROUP]")] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="sqlite:///PATH or postgresql://... [JOURNEY_DATABASE_URL]"),
    ] = None,
    rules: Annotated[
        str | None, typer.Option("--rules", help="rules file (JSON/TOML) [JOURNEY_RULES]")
    ] = None,
    max_messages: Annotated[
        int | None, typer.Option("--max-messages", min=1, help="stop after N messages")
    ] = None,
    idle_exit: Annotated[
        float | None,
        typer.Option(
            "--idle-exit",
            min=0,
            help="a batch run: stop after SECONDS with nothing to read (exit 2 if no broker answers "
            "for 30 s, or SECONDS if longer, before it has connected)",
        ),
    ] = None,
) -> None:
    """Consume touchpoints from Kafka into the event store and views, each once (dead letters to <topic>.dlq).

    Runs until SIGTERM/SIGINT (the batch in hand is finished first), --max-messages or --idle-exit;
    prints what it did as JSON.
    """
    settings = settings_for(
        database_url, rules, kafka_bootstrap=bootstrap_servers, kafka_topic=topic, kafka_group=group
    )
    engine = open_engine(settings)
    try:
        stats = TouchpointConsumer(engine, settings, max_messages=max_messages, idle_exit=idle_exit).run()
    finally:
        engine.close()
    typer.echo(json.dumps(stats.as_dict()))


def produce(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL touchpoints")],
    bootstrap_servers: Bootstrap = None,
    topic: Topic = None,
) -> None:
    """Publish a JSONL file of touchpoints keyed by customer_id, as an upstream system would."""
    settings = settings_for(kafka_bootstrap=bootstrap_servers, kafka_topic=topic)
    with broker_errors(settings):
        sent = produce_file(file, settings)
    typer.echo(json.dumps({"sent": sent, "topic": settings.kafka_topic}))


@contextmanager
def broker_errors(settings: Settings) -> Iterator[None]:
    """A broker that cannot be reached, before or during the block, is a KafkaUnavailableError naming
    kafka_bootstrap (a command that would otherwise wait 30 s and print kafka-python's traceback)."""
    where = f"kafka_bootstrap: {settings.kafka_bootstrap}"
    if not any_listening(settings.kafka_bootstrap):
        raise KafkaUnavailableError(f"{where}: no bootstrap server accepts connections")
    try:
        yield
    except KafkaError as exc:
        raise KafkaUnavailableError(f"{where}: {type(exc).__name__}: {exc}") from None
