"""A customer's service-quality summary at T (DOMAIN.md, "Service quality: the five gaps",
gap5 and csi, seen from one customer; CONTRACT.md's customer view "service")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from journey.projections.complaints import open_complaints
from journey.projections.history import history
from journey.touchpoints import DIMENSIONS, AnyTouchpoint, Survey


@dataclass(frozen=True)
class ServiceSummary:
    """The latest csi score, the customer gap per dimension, the open complaints, and why."""

    csi_last: float | None
    gap5: dict[str, float | None] = field(default_factory=dict)
    open_complaints: int = 0
    decided_by: tuple[str, ...] = ()


def customer_service_at(touchpoints: Iterable[AnyTouchpoint], at: datetime) -> ServiceSummary:
    """The latest csi_score, gap5 per dimension = mean over the customer's servqual surveys of
    (perception - expectation) rounded to 3 decimals ({} without one), and the number of open
    complaints (DOMAIN.md gap5; a complaint is open until a complaint_resolved of its id)."""
    hist = history(touchpoints, at)
    csi = [tp for tp in hist if isinstance(tp, Survey) and tp.data.kind == "csi"]
    servqual = [tp for tp in hist if isinstance(tp, Survey) and tp.data.kind == "servqual"]
    complaints = open_complaints(hist)
    decided = {tp.event_id for tp in (*csi[-1:], *servqual, *complaints)}
    return ServiceSummary(
        csi_last=csi[-1].data.csi_score if csi else None,
        gap5=gap5(servqual),
        open_complaints=len(complaints),
        decided_by=tuple(tp.event_id for tp in hist if tp.event_id in decided),
    )


def gap5(surveys: list[Survey]) -> dict[str, float | None]:
    """DOMAIN.md gap5 (customer gap): mean over servqual surveys of perception - expectation,
    per dimension, rounded to 3 decimals; {} without a survey."""
    pairs = [(s.data.perceptions, s.data.expectations) for s in surveys if s.data.kind == "servqual"]
    scored = [(p.as_dict(), e.as_dict()) for p, e in pairs if p is not None and e is not None]
    if not scored:
        return {}
    return {d: round(sum(p[d] - e[d] for p, e in scored) / len(scored), 3) for d in DIMENSIONS}


def service_breakpoints(touchpoints: Iterable[AnyTouchpoint]) -> list[datetime]:
    """customer_service_at changes only when a touchpoint occurs: their instants, sorted, unique."""
    return sorted({tp.occurred_at for tp in history(touchpoints)})
