"""Operations routes: /health (open: store reachable, views' lag) and /metrics (Prometheus text)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from journey.api.auth import require_key
from journey.api.metrics import ApiMetrics
from journey.engine import Engine

log = structlog.get_logger()

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Is the event store reachable, how far behind are the views (no key needed)")
def health(request: Request) -> JSONResponse:
    engine: Engine = request.app.state.engine
    try:
        recorded = engine.app.recorder.max_notification_id() or 0
        position = engine.views.position()
    except Exception as exc:
        log.warning("health_store_unreachable", error=type(exc).__name__)
        body: dict[str, Any] = {"status": "unavailable", "store": "unreachable"}
        return JSONResponse(body, status_code=503)
    views = {"position": position, "lag": recorded - position}
    return JSONResponse({"status": "ok", "store": "reachable", "events": recorded, "views": views})


@router.get("/metrics", summary="Prometheus text exposition", dependencies=[Depends(require_key)])
def metrics(request: Request) -> Response:
    registry: ApiMetrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
