"""Shared steps of the Kafka tests: a data set, producing it, comparing views."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings

_topics = itertools.count(1)
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def unique(name: str) -> str:
    return f"{name}-{next(_topics)}-{datetime.now(UTC).strftime('%H%M%S%f')}"


def data_file(tmp_path: Path, customers: int, seed: int = 5) -> tuple[Path, list[dict[str, Any]]]:
    data = generate(seed=seed, customers=customers)
    path = tmp_path / f"data-{customers}-{seed}.jsonl"
    write_jsonl(data, path)
    return path, data


def settings(bootstrap: str, topic: str, database_url: str, group: str = "journey-ingest") -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        kafka_topic=topic,
        kafka_group=group,
        pii_key="test-key",
    )


def views_of(engine: Engine, data: list[dict[str, Any]]) -> dict[str, Any]:
    """Every customer's view and every dealer's report at AS_OF (the comparison key of these tests)."""
    engine.views.catch_up()
    customers = sorted({tp["customer_id"] for tp in data if tp.get("customer_id")})
    dealers = sorted({tp["dealer_id"] for tp in data})
    return {
        "customers": {c: engine.customer(c, AS_OF) for c in customers},
        "reports": {d: engine.report(d, AS_OF) for d in dealers},
    }


def reference_views(path: Path, data: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    engine = Engine.open(Settings(database_url=f"sqlite:///{tmp_path}/reference.db", pii_key="test-key"))
    engine.ingest_file(path)
    views = views_of(engine, data)
    engine.close()
    return views


def stored_events(engine: Engine) -> int:
    """TouchpointRecorded events in the store (each touchpoint once if exactly-once held)."""
    return len(recorded_event_ids(engine))


def recorded_event_ids(engine: Engine) -> list[str]:
    """The event_id of every touchpoint recorded in the store, in recording order."""
    ids: list[str] = []
    start = 0
    while page := engine.app.recorder.select_notifications(start, 10_000, inclusive_of_start=False):
        events = (engine.app.mapper.to_domain_event(n) for n in page)
        ids += [e.touchpoint["event_id"] for e in events if hasattr(e, "touchpoint")]
        start = page[-1].id
    return ids
