"""Ingest benchmark: `journey ingest` of the demo data set into SQLite and PostgreSQL, next to a
raw baseline measured in the same run (the same stored rows bulk-inserted into the same
database with the same driver, in the same batch size).

    .venv/bin/python bench/ingest.py [--customers 2000] [--postgres URL | --no-postgres]

Prints touchpoints/s for the engine (contract validation, aggregates, event store), for the
view projection, and for the raw insert, and the ratio engine / raw.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.pg_server

from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings

BATCH = 1000


def measure(url: str, source: Path, count: int) -> dict[str, float]:
    engine = Engine.open(Settings(database_url=url))
    from journey.ingest import ingest_file

    started = time.perf_counter()
    report = ingest_file(engine.app, source, batch_size=BATCH)
    ingest_s = time.perf_counter() - started
    assert report.applied == count, report
    started = time.perf_counter()
    engine.views.catch_up()
    views_s = time.perf_counter() - started
    rows = [(n.originator_id, n.originator_version, n.topic, n.state) for n in _all_notifications(engine)]
    raw_s = raw_insert(engine, url, rows)
    engine.close()
    return {
        "ingest": count / ingest_s,
        "views": count / views_s,
        "raw": len(rows) / raw_s,
        "events": len(rows),
    }


def _all_notifications(engine: Engine) -> list[Any]:
    out: list[Any] = []
    start = 0
    while True:
        page = engine.app.recorder.select_notifications(start, 10000, inclusive_of_start=False)
        if not page:
            return out
        out += page
        start = page[-1].id


def raw_insert(engine: Engine, url: str, rows: list[tuple[Any, ...]]) -> float:
    """Bulk-insert the same stored-event rows into a twin table, BATCH rows per transaction."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute(
            "CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB,"
            " PRIMARY KEY (originator_id, originator_version))"
        )
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            with conn:
                conn.executemany(
                    "INSERT INTO raw_events VALUES (?, ?, ?, ?)",
                    [(str(r[0]), *r[1:]) for r in rows[i : i + BATCH]],
                )
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=False) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_events")
        conn.execute(
            "CREATE TABLE raw_events (id BIGSERIAL, originator_id uuid, originator_version bigint, topic text,"
            " state bytea, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s)",
                    rows[i : i + BATCH],
                )
            conn.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--postgres", help="PostgreSQL URL (default: start deploy/postgres on 5433)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    from journey.logging import configure_logging

    configure_logging(logging.WARNING)
    data = generate(customers=args.customers)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "demo.jsonl"
        write_jsonl(data, source)
        targets = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if not args.no_postgres:
            from tests.pg_server import ensure_postgres, fresh_database

            targets["postgresql"] = args.postgres or fresh_database(ensure_postgres(), "bench_ingest")
        print(f"{len(data)} touchpoints, batches of {BATCH}")
        print(f"{'store':<11} {'ingest tp/s':>12} {'raw rows/s':>12} {'ratio':>7} {'views tp/s':>12}")
        for name, url in targets.items():
            r = measure(url, source, len(data))
            print(
                f"{name:<11} {r['ingest']:>12,.0f} {r['raw']:>12,.0f} {r['ingest'] / r['raw']:>7.2f} {r['views']:>12,.0f}"
            )


if __name__ == "__main__":
    main()
