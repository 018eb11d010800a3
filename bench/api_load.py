"""HTTP API load benchmark (issue: `journey serve`).

Builds (or reuses) an SQLite store of the demo generator's data set, starts `journey serve` on it,
and drives `GET /customers/{id}` and `GET /dealers/{id}/report` with 50 concurrent clients (random
customers, dealers and as_of instants); prints p50/p99 latency and requests/s for each route:

- closed loop: every client sends its next request as soon as it has an answer, so requests/s is
  the server's saturation throughput and latency is about clients / throughput (Little's law);
- paced (--customer-rate, --report-rate): open loop at a fixed rate spread over the same clients,
  latency counted from each request's due time: the latency a user sees at that load.

    .venv/bin/python bench/api_load.py --db /tmp/bench-api/journey.db --customers 100000 --build-only
    .venv/bin/python bench/api_load.py --db /tmp/bench-api/journey.db --workers 2 \\
        --customer-rate 250 --report-rate 5

An existing --db is reused as it is (delete it to rebuild; 100,000 customers take ~35 min here,
most of it projecting the views). Aim: p99 < 50 ms for customers and < 200 ms for reports.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journey.demo_data import generate
from journey.engine import Engine
from journey.logging import configure_logging
from journey.settings import Settings
from journey.touchpoints import parse_touchpoint
from tests.browser import journey_serve

BATCH = 2000


def build(db: Path, customers: int) -> None:
    """Generate the demo data set for `customers` customers and store and project it into db."""
    db.parent.mkdir(parents=True, exist_ok=True)
    engine = Engine.open(Settings(database_url=f"sqlite:///{db}"))
    try:
        t = time.perf_counter()
        raw = generate(customers=customers)
        print(f"generated {len(raw):,} touchpoints in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        for i in range(0, len(raw), BATCH):
            engine.app.ingest([parse_touchpoint(tp) for tp in raw[i : i + BATCH]])
            if i % (BATCH * 100) == 0:
                print(f"  stored {i + BATCH:,} ({time.perf_counter() - t:.0f} s)", flush=True)
        print(f"stored in {time.perf_counter() - t:.0f} s", flush=True)
        del raw
        t = time.perf_counter()
        engine.views.catch_up()
        print(f"projected the views in {time.perf_counter() - t:.0f} s", flush=True)
    finally:
        engine.close()


def sample_space(db: Path) -> tuple[list[str], list[str], datetime]:
    """The customer ids, the dealer ids and the latest valid_from of the store's views."""
    engine = Engine.open(Settings(database_url=f"sqlite:///{db}"))
    try:
        select = engine.views.recorder.select
        customers = [r[0] for r in select("SELECT DISTINCT customer_id FROM {customer_state}")]
        dealers = [r[0] for r in select("SELECT DISTINCT dealer_id FROM {customer_state}")]
        (latest,) = select("SELECT MAX(valid_from) FROM {customer_state}")[0]
    finally:
        engine.close()
    return sorted(customers), sorted(dealers), datetime.fromtimestamp(latest / 1e6, UTC)


class Connection:
    """A minimal HTTP/1.1 keep-alive client (httpx's async pool costs ~4 ms of CPU per request at
    50 connections, more than the server: it would measure the load generator, not the API)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        connection = cls(host, port)
        await connection.connect()
        return connection

    async def connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, target: str) -> tuple[int, bytes]:
        """GET target; reconnects once when the server has closed an idle keep-alive connection."""
        try:
            return await self._get(target)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.connect()
            return await self._get(target)

    async def _get(self, target: str) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(next(v for k, v in headers.items() if k.lower() == "content-length"))
        return int(lines[0].split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def drive(
    connections: list[Connection], make_url: Callable[[], str], requests: int, rate: float | None = None
) -> tuple[list[float], float]:
    """`requests` GETs of make_url(), one client per connection: latencies and wall time.

    Without a rate, closed loop: each client sends its next request as soon as it has the answer
    (the server's saturation). With a rate, open loop: request i is due at start + i / rate and
    its latency counts from then, so time spent waiting for a free client counts too.
    """
    latencies: list[float] = []
    issued = 0
    started = time.perf_counter()

    async def client(connection: Connection) -> None:
        nonlocal issued
        while issued < requests:
            i, issued = issued, issued + 1
            due = started + i / rate if rate else time.perf_counter()
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status, body = await connection.get(make_url())
            latencies.append(time.perf_counter() - due)
            if status != 200:
                raise RuntimeError(f"{status}: {body[:200]!r}")

    await asyncio.gather(*(client(c) for c in connections))
    return latencies, time.perf_counter() - started


def line(name: str, latencies: list[float], wall: float) -> str:
    q = statistics.quantiles(latencies, n=100)
    return (
        f"{name:<36} p50 {q[49] * 1000:7.1f} ms   p99 {q[98] * 1000:7.1f} ms   "
        f"{len(latencies) / wall:8.1f} req/s   ({len(latencies)} requests)"
    )


async def load(
    port: int, customers: list[str], dealers: list[str], end: datetime, args: argparse.Namespace
) -> None:
    rnd = random.Random(1)

    def instant() -> str:
        return (end - timedelta(days=rnd.uniform(0, 900))).isoformat().replace("+00:00", "Z")

    def customer_url() -> str:
        return f"/customers/{rnd.choice(customers)}?as_of={instant()}"

    def report_url() -> str:
        return f"/dealers/{rnd.choice(dealers)}/report?as_of={instant()}"

    connections = [await Connection.open("127.0.0.1", port) for _ in range(args.clients)]
    try:
        await drive(connections, customer_url, args.clients * 4)  # warm-up
        routes: list[tuple[str, Callable[[], str], int, float | None]] = [
            ("GET /customers/{id}", customer_url, args.requests, None),
            ("GET /dealers/{id}/report", report_url, args.report_requests, None),
        ]
        if args.customer_rate:
            routes.append(
                (
                    f"GET /customers/{{id}} paced {args.customer_rate:g}/s",
                    customer_url,
                    args.requests,
                    args.customer_rate,
                )
            )
        if args.report_rate:
            routes.append(
                (
                    f"GET /dealers/{{id}}/report paced {args.report_rate:g}/s",
                    report_url,
                    args.report_requests,
                    args.report_rate,
                )
            )
        print(f"{args.clients} concurrent clients; closed loop (saturation), then paced if asked", flush=True)
        for name, make_url, count, rate in routes:
            print(line(name, *await drive(connections, make_url, count, rate)), flush=True)
    finally:
        for c in connections:
            c.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=Path("bench-api/journey.db"))
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000, help="customer requests")
    parser.add_argument("--report-requests", type=int, default=1000)
    parser.add_argument("--customer-rate", type=float, help="also run /customers paced at this req/s")
    parser.add_argument("--report-rate", type=float, help="also run /dealers/{id}/report paced at this req/s")
    parser.add_argument("--workers", type=int, default=1, help="journey serve --workers")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    configure_logging(logging.WARNING)
    if not args.db.exists():
        build(args.db, args.customers)
    if args.build_only:
        return
    customers, dealers, end = sample_space(args.db)
    print(f"store {args.db}: {len(customers):,} customers at {len(dealers)} dealers", flush=True)
    serve_args = ("--workers", str(args.workers))
    with journey_serve(f"sqlite:///{args.db}", env={"JOURNEY_API_KEYS": ""}, args=serve_args) as server:
        asyncio.run(load(int(server.base.rsplit(":", 1)[1]), customers, dealers, end, args))


if __name__ == "__main__":
    main()
