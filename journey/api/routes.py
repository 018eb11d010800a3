"""The read routes: the same objects the CLI's --json prints, for customers and dealers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from anyio.to_thread import run_sync
from fastapi import APIRouter, Depends, Request, Response

from journey.api.auth import require_key
from journey.api.dealers import KnownDealers, csi_trend
from journey.api.errors import InvalidParameterError
from journey.api.params import (
    AsOf,
    From,
    KnownAt,
    Limit,
    Month,
    Months,
    Offset,
    Overdue,
    To,
    instant,
    required_instant,
)
from journey.engine import Engine

JSON = dict[str, Any]


# Dependencies are coroutines: FastAPI would run a plain function in the thread pool, one hop per
# dependency per request; only a dealer not seen yet reads the store (in the thread pool).


async def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def dealer_of(request: Request, dealer_id: str) -> str:
    """The path's dealer_id, 404 when the store has never heard of it."""
    known: KnownDealers = request.app.state.dealers
    if not known.seen(dealer_id):
        await run_sync(known.require, dealer_id)
    return dealer_id


EngineDep = Annotated[Engine, Depends(engine_of)]
Dealer = Annotated[str, Depends(dealer_of)]

customers = APIRouter(prefix="/customers", tags=["customers"], dependencies=[Depends(require_key)])
dealers = APIRouter(prefix="/dealers", tags=["dealers"], dependencies=[Depends(require_key)])


@customers.get("/{customer_id}", summary="A customer's intent, retention and service view as of an instant")
def customer(engine: EngineDep, customer_id: str, as_of: AsOf = None, known_at: KnownAt = None) -> JSON:
    return engine.customer(customer_id, instant(as_of, "as_of"), instant(known_at, "known_at"))


@customers.get(
    "/{customer_id}/history", summary="The auditor's replay: each touchpoint and the state it led to"
)
def history(engine: EngineDep, customer_id: str, as_of: AsOf = None, known_at: KnownAt = None) -> JSON:
    return engine.history(customer_id, instant(as_of, "as_of"), instant(known_at, "known_at"))


@dealers.get("", summary="The dealers the store knows")
def dealer_list(request: Request) -> JSON:
    known: KnownDealers = request.app.state.dealers
    return {"dealers": known.all()}


@dealers.get("/{dealer_id}/report", summary="Leads per intent level, owners per retention status, metrics")
def report(engine: EngineDep, dealer_id: Dealer, as_of: AsOf = None) -> JSON:
    return engine.report(dealer_id, instant(as_of, "as_of"))


@dealers.get("/{dealer_id}/gaps", summary="gap1..gap5 per SERVQUAL dimension over [from, to)")
def gaps(engine: EngineDep, dealer_id: Dealer, from_: From, to: To, as_of: AsOf = None) -> JSON:
    start, end = required_instant(from_, "from"), required_instant(to, "to")
    if end <= start:
        raise InvalidParameterError("to", f"{to!r} must be after from ({from_!r})")
    return engine.gaps(dealer_id, start, end, instant(as_of, "as_of"))


@dealers.get("/{dealer_id}/tasks", summary="The work queue at an instant, overdue first (paginated)")
def tasks(
    request: Request,
    response: Response,
    engine: EngineDep,
    dealer_id: Dealer,
    as_of: AsOf = None,
    overdue: Overdue = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSON:
    at = instant(as_of, "as_of") or datetime.now(UTC)
    queue = engine.tasks(dealer_id, at, overdue_only=overdue, limit=limit, offset=offset)
    if len(queue["tasks"]) == limit:
        after = request.url.include_query_params(offset=offset + limit, as_of=at.isoformat())
        response.headers["Link"] = f'<{after}>; rel="next"'
    return queue


@dealers.get("/{dealer_id}/kpis", summary="The callback KPIs of a month")
def kpis(engine: EngineDep, dealer_id: Dealer, month: Month) -> JSON:
    return engine.kpis(dealer_id, month)


@dealers.get("/{dealer_id}/csi_trend", summary="csi_mean per month against the target (for the dashboard)")
def trend(engine: EngineDep, dealer_id: Dealer, as_of: AsOf = None, months: Months = 12) -> JSON:
    return csi_trend(engine, dealer_id, instant(as_of, "as_of") or datetime.now(UTC), months)
