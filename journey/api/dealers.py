"""Dealer look-ups of the API: which dealers exist (404 for the others) and the CSI trend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from journey.engine import Engine
from journey.projections.customer import utc


class KnownDealers:
    """Dealers with customers in the views or touchpoints of their own; a dealer once known stays
    known (touchpoints are never removed), so only a miss reads the store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def all(self) -> list[str]:
        found = set(self.engine.dealers())
        with self._lock:
            self._known |= found
            return sorted(self._known)

    def seen(self, dealer_id: str) -> bool:
        """Known already (no store read)."""
        return dealer_id in self._known

    def require(self, dealer_id: str) -> None:
        """Raise UnknownDealerError unless the store holds a touchpoint of this dealer."""
        if self.seen(dealer_id):
            return
        self.engine.require_dealer(dealer_id)
        with self._lock:
            self._known.add(dealer_id)


def month_starts(at: datetime, months: int) -> list[datetime]:
    """The first instants (UTC) of the `months` months ending with at's month, oldest first."""
    at = at.astimezone(UTC)
    index = at.year * 12 + at.month - 1
    return [datetime(i // 12, i % 12 + 1, 1, tzinfo=UTC) for i in range(index - months + 1, index + 1)]


def csi_trend(engine: Engine, dealer_id: str, at: datetime, months: int = 12) -> dict[str, Any]:
    """csi_mean per month (the five-gaps view over each month; the current month up to `at`)."""
    starts = month_starts(at, months)
    ends = [*starts[1:], at]
    rows = []
    target: float = engine.rules.policies.csi_target
    for start, end in zip(starts, ends, strict=True):
        csi = engine.gaps(dealer_id, start, min(end, at), as_of=at)["csi_mean"]
        target = csi.get("target", target)
        rows.append(
            {"month": start.strftime("%Y-%m"), "csi_mean": csi["value"], "n": csi["n"], "met": csi["met"]}
        )
    return {"dealer_id": dealer_id, "as_of": utc(at), "target": target, "months": rows}
