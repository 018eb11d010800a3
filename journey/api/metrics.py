"""Prometheus metrics of `journey serve` in a dedicated registry: requests and latencies by route
template and status, the views' lag and the event store's counters (read at scrape time)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journey.engine import Engine

log = structlog.get_logger()

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class StoreCollector(Collector):
    """The event store's and the views' positions, read when Prometheus scrapes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("journey_store_up", "1 when the event store answered the last scrape")
        try:
            recorded = self.engine.app.recorder.max_notification_id() or 0
            projected = self.engine.views.position()
        except Exception as exc:  # the store is down: say so rather than fail the scrape
            log.warning("metrics_store_unreachable", error=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield CounterMetricFamily(
            "journey_store_events",
            "events recorded in the event store (touchpoints ingested)",
            value=recorded,
        )
        yield CounterMetricFamily(
            "journey_views_projected_events", "events projected into the views", value=projected
        )
        yield GaugeMetricFamily(
            "journey_views_lag", "events recorded but not yet projected", value=recorded - projected
        )


class ApiMetrics:
    """The registry `GET /metrics` exposes."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "journey_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "journey_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StoreCollector(engine))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method, str(status)).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's path template (never the path itself: it holds customer ids)."""
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return template
    if scope.get("endpoint") is not None and not scope.get("path_params"):
        return str(scope["path"])  # a fixed path (no parameters), e.g. /docs, /openapi.json
    return "/static" if str(scope.get("path", "")).startswith("/static/") else "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times every HTTP request; logs no path, no query."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(route, scope["method"], status, seconds)
            level = log.warning if status >= 500 else log.info
            level(
                "http_request",
                route=route,
                method=scope["method"],
                status=status,
                ms=round(seconds * 1000, 1),
            )
