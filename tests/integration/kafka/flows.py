"""Shared steps of the Kafka tests: data sets, settings on a fresh topic, `journey consume` as a
subprocess, and the views two runs are compared by."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings
from tests.kafka_broker import KafkaBroker
from tests.processes import children_of

_topics = itertools.count(1)
PII_KEY = "test-key"
#: The instants the views of two runs are compared at.
AS_OF = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
JOURNEY = Path(sys.executable).parent / "journey"


def unique(name: str) -> str:
    return f"{name}-{next(_topics)}-{datetime.now(UTC).strftime('%H%M%S%f')}"


def data_file(tmp_path: Path, customers: int, seed: int = 5) -> tuple[Path, list[dict[str, Any]]]:
    data = generate(seed=seed, customers=customers)
    path = tmp_path / f"data-{customers}-{seed}.jsonl"
    write_jsonl(data, path)
    return path, data


def kafka_settings(broker: KafkaBroker, database_url: str, name: str, partitions: int) -> Settings:
    """Settings on a new topic of `partitions` partitions, consumed by a group of its own."""
    topic = f"{name}-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic, partitions=partitions)
    return Settings(
        database_url=database_url,
        kafka_bootstrap=broker.bootstrap,
        kafka_topic=topic,
        kafka_group=f"g-{topic}",
        pii_key=PII_KEY,
    )


def views_of(engine: Engine, data: list[dict[str, Any]]) -> dict[str, Any]:
    """Every customer's view and dealer's report at the AS_OF instants, and every row of every view table."""
    engine.views.catch_up()
    customers = sorted({tp["customer_id"] for tp in data if tp.get("customer_id")})
    dealers = sorted({tp["dealer_id"] for tp in data})
    recorder = engine.views.recorder
    return {
        "customers": {(c, t): engine.customer(c, t) for c in customers for t in AS_OF},
        "reports": {(d, t): engine.report(d, t) for d in dealers for t in AS_OF},
        "tables": {
            p.table.name: sorted(map(repr, recorder.select(f"SELECT * FROM {{{p.table.name}}}")))
            for p in engine.views.parts
        },
    }


def file_ingest_views(path: Path, data: list[dict[str, Any]], directory: Path) -> dict[str, Any]:
    """The views `journey ingest` of the same file gives (what a consumed topic must equal)."""
    reference = Engine.open(Settings(database_url=f"sqlite:///{directory}/reference.db", pii_key=PII_KEY))
    reference.ingest_file(path)
    views = views_of(reference, data)
    reference.close()
    return views


def recorded_event_ids(engine: Engine) -> list[str]:
    """The event_id of every touchpoint recorded in the store, in recording order."""
    ids: list[str] = []
    start = 0
    while page := engine.app.recorder.select_notifications(start, 10_000, inclusive_of_start=False):
        events = (engine.app.mapper.to_domain_event(n) for n in page)
        ids += [e.touchpoint["event_id"] for e in events if hasattr(e, "touchpoint")]
        start = page[-1].id
    return ids


class ConsumeProcess:
    """`journey consume` as a subprocess, its JSON log lines collected as they come."""

    def __init__(
        self, settings: Settings, *args: str, session: bool = False, env: dict[str, str] | None = None
    ) -> None:
        """``session``: in a process group of its own (to be signalled as a group, like Ctrl-C or
        systemd do); ``env``: more environment variables."""
        env = {**os.environ, "JOURNEY_PII_KEY": settings.pii_key, **(env or {})}
        command = [str(JOURNEY), "consume", "--bootstrap-servers", settings.kafka_bootstrap]
        command += ["--topic", settings.kafka_topic, "--group", settings.kafka_group]
        command += ["--database-url", settings.database_url, *args]
        self.proc = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=session,
        )
        self.logs: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                self.logs.append(json.loads(line))
            except ValueError:
                self.logs.append({"event": "text", "line": line.decode(errors="replace")})

    @property
    def assigned(self) -> set[int]:
        """The partitions its latest assignment gave it."""
        out: set[int] = set()
        for entry in list(self.logs):
            if entry.get("event") == "partitions_assigned":
                out = set(entry["partitions"])
            elif entry.get("event") == "partitions_revoked":
                out -= set(entry["partitions"])
        return out

    def wait_for(self, event: str, timeout: float) -> bool:
        """Wait for a log line of this event (one naming some partitions, if it names any)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("event") == event and e.get("partitions", [0]) for e in list(self.logs)):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def finish(self, timeout: float) -> tuple[int, dict[str, Any]]:
        """Wait for the exit (stderr stays with the reader thread); the exit code and the stats it printed."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        lines = out.decode().strip().splitlines()
        return self.proc.returncode, (json.loads(lines[-1]) if lines else {})

    def children(self) -> list[int]:
        """The pids of its child processes (e.g. view workers)."""
        return children_of(self.proc.pid)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
