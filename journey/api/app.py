"""`create_app(engine)`: the read-only HTTP API, its metrics and the dashboard on one engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio.to_thread import current_default_thread_limiter
from fastapi import FastAPI

from journey.api import ops, routes
from journey.api.dashboard import mount_dashboard
from journey.api.dealers import KnownDealers
from journey.api.docs import mount_docs
from journey.api.errors import install_error_handlers
from journey.api.metrics import ApiMetrics, MetricsMiddleware
from journey.engine import Engine

DESCRIPTION = """Read-only views of the customer-journey engine, as of any instant.

Every JSON body is the object the CLI's `--json` prints (`journey customer`, `journey report`,
`journey gaps`, `journey tasks`, `journey kpis`, `journey replay`). Instants are RFC 3339 with an
offset, or a `YYYY-MM-DD` date (its UTC midnight). When `JOURNEY_API_KEYS` is set, every data route
needs `Authorization: Bearer <key>`; `/health` is open.
"""

#: Threads running the (blocking) view reads at once: fewer than the store's connection pool holds
#: (SQLite 5 + 10 overflow, PostgreSQL 5 + 5), so no request waits on the pool's timeout; with the
#: GIL more threads would not read faster.
READ_THREADS = 8


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    current_default_thread_limiter().total_tokens = READ_THREADS
    yield


def create_app(engine: Engine) -> FastAPI:
    """The FastAPI app serving `engine`'s views (the caller owns the engine and closes it)."""
    app = FastAPI(
        title="journey",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.api_keys = engine.settings.api_key_set
    app.state.dealers = KnownDealers(engine)
    app.state.metrics = ApiMetrics(engine)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    app.include_router(routes.customers)
    app.include_router(routes.dealers)
    app.include_router(ops.router)
    mount_docs(app)
    mount_dashboard(app)
    return app
