"""Views benchmark (issue: tracked as-of views).

1. Rebuild of all views from the stored touchpoints, in events/s, next to the raw read rate
   of the same store in the same run (select_notifications + decode, no view work).
2. Latency p50/p99 of `customer --as-of` and `report --as-of` against the same store.

    .venv/bin/python bench/views.py --customers 60000 --store sqlite      # ~1,000,000 touchpoints
    .venv/bin/python bench/views.py --customers 60000 --store postgres

The data set is the demo generator's, scaled by --customers (about 17 touchpoints each).
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.pg_server

from journey.demo_data import generate
from journey.engine import Engine
from journey.logging import configure_logging
from journey.projections.timecols import from_micros
from journey.rebuild import rebuild
from journey.settings import Settings
from journey.touchpoints import parse_touchpoint


def raw_read(engine: Engine) -> tuple[int, float]:
    started = time.perf_counter()
    count, start = 0, 0
    while True:
        page = engine.app.recorder.select_notifications(start, 5000, inclusive_of_start=False)
        if not page:
            return count, time.perf_counter() - started
        for n in page:
            engine.app.mapper.to_domain_event(n)
        count += len(page)
        start = page[-1].id


def known_subjects(engine: Engine) -> tuple[list[str], list[str], datetime]:
    """The customers and dealers of the views, and the last instant an interval starts."""
    select = engine.views.recorder.select
    customers = sorted(c for (c,) in select("SELECT DISTINCT customer_id FROM {customer_state}"))
    dealers = sorted(d for (d,) in select("SELECT DISTINCT dealer_id FROM {customer_state}"))
    (last,) = select("SELECT MAX(valid_from) FROM {customer_state}")[0]
    end = from_micros(last)
    assert end is not None
    return customers, dealers, end


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"p50 {q[49] * 1000:7.2f} ms   p99 {q[98] * 1000:7.2f} ms   ({len(samples)} calls)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=60000)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--latency-only", action="store_true", help="skip the rebuild (an existing --db)")
    parser.add_argument("--db", help="this SQLite store: filled on the first run, reused after")
    args = parser.parse_args()
    configure_logging(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        fill = not (args.db and Path(args.db).exists())
        if args.db:
            url = f"sqlite:///{args.db}"
        elif args.store == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            from tests.pg_server import ensure_postgres, fresh_database

            url = fresh_database(ensure_postgres(), "bench_views")
        engine = Engine.open(Settings(database_url=url))
        if fill:
            t = time.perf_counter()
            data = [parse_touchpoint(tp) for tp in generate(customers=args.customers)]
            for i in range(0, len(data), 2000):
                engine.app.ingest(data[i : i + 2000])
            print(f"{args.store}: stored {len(data):,} touchpoints in {time.perf_counter() - t:.0f} s")
            del data

        if not args.latency_only:
            events, read_s = raw_read(engine)
            t = time.perf_counter()
            result = rebuild(engine.views, verify=False)
            rebuild_s = time.perf_counter() - t
            raw_rate, rebuild_rate = events / read_s, result.notifications / rebuild_s
            print(f"raw read     {raw_rate:>10,.0f} events/s")
            print(f"rebuild      {rebuild_rate:>10,.0f} events/s   ratio {rebuild_rate / raw_rate:.3f}")

        rnd = random.Random(1)
        engine.views.catch_up()
        customers, dealers, end = known_subjects(engine)

        def instant() -> datetime:
            return (end - timedelta(days=rnd.uniform(0, 900))).astimezone(UTC)

        samples = []
        for _ in range(args.calls):
            cid, at = rnd.choice(customers), instant()
            t = time.perf_counter()
            engine.customer(cid, at)
            samples.append(time.perf_counter() - t)
        print(f"customer --as-of  {percentiles(samples)}")
        samples = []
        for _ in range(max(50, args.calls // 5)):
            dealer, at = rnd.choice(dealers), instant()
            t = time.perf_counter()
            engine.report(dealer, at)
            samples.append(time.perf_counter() - t)
        print(f"report --as-of    {percentiles(samples)}   ({len(customers):,} customers)")
        engine.close()


if __name__ == "__main__":
    main()
