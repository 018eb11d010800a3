"""The `journey publish-tasks` command (registered through the `journey.commands` entry points)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from consumers.cli import Bootstrap, broker_errors
from consumers.task_publisher import TaskPublisher
from journey.cli import DatabaseUrl, RulesFile, engine_for, settings_for


def publish_tasks(
    bootstrap_servers: Bootstrap = None,
    topic: Annotated[str | None, typer.Option("--topic", help="tasks topic [JOURNEY_TASKS_TOPIC]")] = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    interval: Annotated[float, typer.Option(help="seconds between rounds")] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="one round, then exit")] = False,
) -> None:
    """Publish each task's creation, becoming overdue and completion once to journey.tasks (for the CRM)."""
    settings = settings_for(database_url, rules, kafka_bootstrap=bootstrap_servers, tasks_topic=topic)
    with engine_for(settings.database_url, settings.rules) as engine, broker_errors(settings):
        publisher = TaskPublisher(engine, settings)
        try:
            sent = publisher.run(interval, rounds=1 if once else None)
        finally:
            publisher.close()
    typer.echo(json.dumps({"published": sent, "topic": settings.tasks_topic}))
